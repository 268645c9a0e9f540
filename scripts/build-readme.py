#!/usr/bin/env python3
"""Assembles README.md from docs/readme/*.md sections (one place per topic, one README)."""
import pathlib, re
root = pathlib.Path(__file__).resolve().parent.parent
order = ['backtest', 'ledger', 'cost', 'market', 'strategies', 'pipeline', 'report', 'live-venue', 'live', 'benchmarks', 'design', 'development']
parts = [(root / 'docs/readme/_head.md').read_text()]
for name in order:
    path = root / f'docs/readme/{name}.md'
    if path.exists():
        text = path.read_text().replace('](../../', '](')
        parts.append(text.strip() + '\n')
(root / 'README.md').write_text('\n'.join(parts))
print('README.md:', sum(p.count('\n') for p in parts), 'lines')
