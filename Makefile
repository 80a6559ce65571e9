# Shortcuts; each line is also a plain command to copy.
SITE ?= build/site
PORT ?= 8001

.PHONY: static-site serve-static

# The playground as a static site (Pyodide from npm, pinned in playground/package-lock.json)
static-site:
	python -m playground build $(SITE)

# ... served from this machine, as any static host would serve it
serve-static: static-site
	python -m http.server -d $(SITE) -b 127.0.0.1 $(PORT)
