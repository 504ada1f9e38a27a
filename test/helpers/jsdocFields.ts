/**
 * The JSDoc text of each interface field of a TypeScript file, keyed `Interface.field`
 * (whitespace folded to single spaces), read with the TypeScript compiler API.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

export function jsdocFields(file: string): Map<string, string> {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, string>();
  sf.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    for (const m of node.members) {
      if (!ts.isPropertySignature(m) || !m.name) continue;
      const doc = ts
        .getJSDocCommentsAndTags(m)
        .map((d) => (typeof d.comment === 'string' ? d.comment : ''))
        .join(' ');
      out.set(`${node.name.text}.${m.name.getText(sf)}`, doc.replace(/\s+/g, ' ').trim());
    }
  });
  return out;
}
