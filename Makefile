# The two commands of the README:
#   make        set everything up, then check every rule and build the site and the PDFs
#   make test   set everything up, then run the whole test suite
.PHONY: all setup build test bench serve clean

all: build

setup:
	./scripts/setup.sh

build: setup
	.venv/bin/mcref build

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python bench/run.py

serve: setup
	.venv/bin/mcref serve

clean:
	rm -rf build
