#!/usr/bin/env python3
"""Functions longer than a limit in a crate's src/ (tests aside): `fn` lines to the
matching closing brace, strings and comments skipped. Usage: long_fns.py [src] [limit]"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'crates/weir/src'
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 150
FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+"C"\s+)?fn\s+(\w+)')
def strip(line):
    # drop string and char literals and line comments so braces inside them do not count
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return line.split('//')[0]
found = []
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs') or f == 'tests.rs':
            continue
        p = os.path.join(dp, f)
        lines = open(p).read().split('\n')
        # tests aside: stop at the unit-test module
        for i, l in enumerate(lines):
            if l.startswith('#[cfg(test)]') and i + 1 < len(lines) and lines[i + 1].startswith('mod tests'):
                lines = lines[:i]
                break
        i = 0
        while i < len(lines):
            m = FN.match(lines[i])
            if not m:
                i += 1
                continue
            depth, j, opened = 0, i, False
            while j < len(lines):
                s = strip(lines[j])
                if not opened and s.rstrip().endswith(';') and '{' not in s:
                    break  # a declaration without a body (a `;` inside a signature, as in
                    # `args: &[Node; 2],`, does not end it)
                depth += s.count('{') - s.count('}')
                opened = opened or '{' in s
                if opened and depth <= 0:
                    break
                j += 1
            n = j - i + 1
            if opened and n > limit:
                found.append((n, f'{p}:{i + 1}', m.group(7)))
            i += 1
for n, where, name in sorted(found, reverse=True):
    print(f'{n:5} {where} {name}')
sys.exit(1 if found else 0)
