"""What readers see, rendered from the export: LaTeX printing, the site, the PDFs and sheets, citations."""
