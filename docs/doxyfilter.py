#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Doxygen INPUT_FILTER for libxmm's public headers (docs/Doxyfile.in).

The headers document every declaration in the kernel's manner: a block comment
right above it, parameters named as @name in the text. This filter hands
Doxygen the same text in its own markup, so the headers stay plain C comments:

  - the file's opening comment ("xmm/scrub.h - ...") becomes its @file block,
    named by its path under include/ (two headers may share a base name);
  - a block comment directly above a declaration becomes a /** block, and a
    trailing comment on a member or a #define a /**< one;
  - @name (a parameter or field) becomes <tt>name</tt>.

With --check it reads the headers named on the command line and lists every
function declaration that has no comment right above it, exiting 1 if any.
"""
import re
import sys

PARAM = re.compile(r'@([A-Za-z_][A-Za-z0-9_]*)')
DECL = re.compile(r'^[A-Za-z_].*\b(xmm_[a-z0-9_]+)\s*\(')


def params(text):
    """Comment text in Doxygen's markup: <, > and & literal, @name as code."""
    text = text.replace('\\', '\\\\').replace('<', '\\<').replace('>', '\\>').replace('&', '\\&')
    text = text.replace('#', '\\#').replace('%', '\\%')
    return PARAM.sub(r'<tt>\1</tt>', text)


def convert(path, text):
    lines = text.split('\n')
    out = []
    i, n = 0, len(lines)
    file_done = False
    rel = path.split('include/', 1)[-1]
    while i < n:
        line = lines[i]
        if line.startswith('/*') and not line.startswith('/**') and 'SPDX' not in line:
            j = i
            while '*/' not in lines[j]:
                j += 1
            block = lines[i:j + 1]
            nxt = lines[j + 1] if j + 1 < n else ''
            if not file_done and len(block) > 1 and re.match(r'^ \* xmm/', block[1]):
                file_done = True
                block[0] = '/**'
                block.insert(1, ' * @file ' + rel)
                block[2:] = [params(b) for b in block[2:]]
            elif nxt.strip() and not nxt.startswith(('#include', '#if', '#endif', '#else')):
                block[0] = '/**' + block[0][2:]
                block = [params(b) for b in block]
            out.extend(block)
            i = j + 1
            continue
        m = re.match(r'^(\s*[^/\s#].*?[;,])(\s*)/\*(.*)\*/\s*$', line)
        if m:
            line = m.group(1) + m.group(2) + '/**<' + params(m.group(3)) + '*/'
        m = re.match(r'^(#define \S+.*?)(\s+)/\*(.*)\*/\s*$', line)
        if m:
            line = m.group(1) + m.group(2) + '/**<' + params(m.group(3)) + '*/'
        out.append(line)
        i += 1
    return '\n'.join(out)


def undocumented(path, text):
    """Function declarations (not static inline ones) with no comment right above."""
    lines = text.split('\n')
    missing = []
    for k, line in enumerate(lines):
        m = DECL.match(line)
        if not m or line.startswith(('static', 'typedef', '#')):
            continue
        j = k - 1
        # Declarations grouped under one comment: walk up over the group.
        while j >= 0 and (DECL.match(lines[j]) or lines[j].startswith(('\t', '    ')) and
                          not lines[j].strip().startswith(('*', '/*'))):
            j -= 1
        if j < 0 or not lines[j].rstrip().endswith('*/'):
            missing.append('%s:%d: %s' % (path, k + 1, m.group(1)))
    return missing


def main(argv):
    if len(argv) > 1 and argv[1] == '--check':
        missing = []
        for path in argv[2:]:
            with open(path) as f:
                missing += undocumented(path, f.read())
        for m in missing:
            print('undocumented: ' + m)
        print('%d undocumented public function(s)' % len(missing))
        return 1 if missing else 0
    with open(argv[1]) as f:
        sys.stdout.write(convert(argv[1], f.read()))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
