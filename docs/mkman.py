#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Section-3 man pages, one per public function, from Doxygen's XML output.

  docs/mkman.py XMLDIR OUTDIR VERSION

Doxygen's own man output names a header's page by its base name, and
xmm/scrub.h and xmm/user/scrub.h share one; so the pages are written here:
NAME, SYNOPSIS (the header to include and the prototype), DESCRIPTION (the
header's comment), SEE ALSO (the other functions of the header).
"""
import os
import sys
import xml.etree.ElementTree as ET


def text(node):
    """The text of a description element, with code spans in bold and paragraphs kept."""
    if node is None:
        return ''
    out = []

    def walk(e):
        if e.tag in ('computeroutput', 'bold'):
            out.append('\\fB' + ''.join(e.itertext()) + '\\fP')
        elif e.tag == 'para':
            if out and not out[-1].endswith('\n\n'):
                out.append('\n\n')
            out.append(e.text or '')
            for c in e:
                walk(c)
                out.append(c.tail or '')
            return
        elif e.tag == 'linebreak':
            out.append('\n')
        else:
            out.append(e.text or '')
            for c in e:
                walk(c)
                out.append(c.tail or '')
            return
    walk(node)
    s = ''.join(out).strip()
    return '\n'.join(line.strip() for line in s.split('\n'))


def roff(s):
    s = s.replace('\\', '\\e').replace('\\efB', '\\fB').replace('\\efP', '\\fP')
    lines = []
    for line in s.split('\n'):
        if line.startswith(('.', "'")):
            line = '\\&' + line
        lines.append(line)
    return '\n'.join(lines).replace('\n\n', '\n.PP\n')


def main(xmldir, outdir, version):
    os.makedirs(outdir, exist_ok=True)
    pages = 0
    for fn in sorted(os.listdir(xmldir)):
        if not fn.endswith('_8h.xml'):
            continue
        comp = ET.parse(os.path.join(xmldir, fn)).getroot().find('compounddef')
        header = comp.find('compoundname').text
        loc = comp.find('location')
        if loc is not None and loc.get('file', '').startswith('xmm/'):
            header = loc.get('file')
        funcs = [m for m in comp.iter('memberdef') if m.get('kind') == 'function']
        names = [m.find('name').text for m in funcs]
        for m in funcs:
            name = m.find('name').text
            if not name.startswith('xmm_'):
                continue
            proto = (m.find('definition').text or '') + (m.find('argsstring').text or '')
            proto = ' '.join(proto.split())
            brief = text(m.find('briefdescription'))
            detail = text(m.find('detaileddescription'))
            desc = (brief + ('\n\n' + detail if detail else '')).strip()
            summary = ' '.join(brief.replace('\\fB', '').replace('\\fP', '').split())
            summary = summary.split('. ')[0].rstrip('.')
            see = [x for x in names if x != name and x.startswith('xmm_')]
            with open(os.path.join(outdir, name + '.3'), 'w') as f:
                f.write('.TH %s 3 "" "libxmm %s" "libxmm Programmer\'s Manual"\n'
                        % (name.upper(), version))
                f.write('.SH NAME\n%s \\- %s\n' % (name, roff(summary) or name))
                f.write('.SH SYNOPSIS\n.nf\n.B #include <%s>\n.PP\n.B %s;\n.fi\n'
                        % (header, roff(proto)))
                f.write('.SH DESCRIPTION\n%s\n' % roff(desc or 'See <%s>.' % header))
                if see:
                    f.write('.SH SEE ALSO\n%s\n' % ',\n'.join('.BR %s (3)' % x for x in see))
            pages += 1
    print('mkman.py: %d pages in %s' % (pages, outdir))
    return 0 if pages else 1


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:4]))
