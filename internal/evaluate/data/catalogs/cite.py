#!/usr/bin/env python3
"""Write each rule's `sources:` block: the public catalogs that name its
events and up to four of each catalog's entries that do (those naming most
of the rule's events first). Run from the repository's root after changing
rules or catalogs; TestRulesCiteTheCatalogsThatNameTheirEvents checks the
result. Needs PyYAML; rewrites assess/rules/*.yaml in place.
"""
import glob, os, re, collections, yaml
CAT = 'internal/evaluate/data/catalogs'
ORDER = ['traildiscover', 'stratus', 'sigma', 'elastic', 'panther', 'invictus', 'aws-irp']
refs = {k: collections.defaultdict(set) for k in ORDER}
for k in ORDER:
    for l in open(f'{CAT}/{k}.txt'):
        if l.startswith('#'): continue
        p = l.split()
        rs = [x[4:].split(',') for x in p[2:] if x.startswith('ref=')]
        refs[k][(p[0], p[1])] = set(rs[0]) if rs else {'-'}
MAXREFS = 4
def cite(rule):
    m = rule.get('match') or {}
    src = m.get('source'); nm = m.get('name')
    src = [src] if isinstance(src, str) else (src or [])
    nm = [nm] if isinstance(nm, str) else (nm or [])
    out = {}
    for k in ORDER:
        cnt = collections.Counter()
        for (s, n), rs in refs[k].items():
            if n in nm and (not src or s in src):
                for r in rs: cnt[r] += 1
        if cnt:
            out[k] = sorted(cnt, key=lambda r: (-cnt[r], r))[:MAXREFS]
    return out
def fmt(out):
    if not out: return ''
    lines = ['    sources:']
    for k in ORDER:
        if k in out:
            lines.append(f'      {k}: [{", ".join(out[k])}]')
    return '\n'.join(lines) + '\n'
for f in sorted(glob.glob('assess/rules/*.yaml')):
    text = open(f).read()
    data = {r['id']: r for r in yaml.safe_load(text)['rules']}
    parts = re.split(r'(?m)^(?=  - id: )', text)
    new = [parts[0]]
    for p in parts[1:]:
        rid = re.match(r'  - id: (\S+)', p).group(1)
        # drop an existing sources block
        p = re.sub(r'(?m)^    sources:\n(      .*\n)+', '', p)
        body = p.rstrip('\n'); tail = p[len(body):]
        block = fmt(cite(data[rid]))
        new.append(body + '\n' + block.rstrip('\n') + tail if block else p)
    open(f, 'w').write(''.join(new).rstrip('\n') + '\n')
