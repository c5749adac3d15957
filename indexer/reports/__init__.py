"""《舆情摘报》: gather (the one Elasticsearch edge), model (pure build_report), render (md/html/docx)."""
