import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * docs/errors.md lists every error code of every domain: the codes are read here from the code
 * (each `DomainError<Code>` subclass's code type and `domain`), so a code added without its line in
 * the doc, or a line left for a code that is gone, fails this test.
 */
const root = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'web' ? [] : sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function codesInCode(): Map<string, Set<string>> {
  const files = ['services', 'libs']
    .flatMap((top) => readdirSync(join(root, top)).map((p) => join(root, top, p, 'src')))
    .filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    .flatMap(sources)
    .filter((file) => readFileSync(file, 'utf8').includes('extends DomainError<'));
  const program = ts.createProgram(files, {
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    baseUrl: root,
    paths: { '@cloud-connect/*': ['libs/*/src'] },
    types: [],
  });
  const checker = program.getTypeChecker();
  const domains = new Map<string, Set<string>>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not loaded: ${relative(root, file)}`);
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node)) {
        const base = node.heritageClauses
          ?.flatMap((h) => [...h.types])
          .find((t) => t.expression.getText(source) === 'DomainError');
        const codeType = base?.typeArguments?.[0];
        if (base && codeType) {
          const domain = node.members
            .filter(ts.isPropertyDeclaration)
            .find((m) => m.name.getText(source) === 'domain')?.initializer;
          if (!domain || !ts.isStringLiteral(domain))
            throw new Error(`${node.name?.text ?? '?'}: no literal domain`);
          const type = checker.getTypeFromTypeNode(codeType);
          const literals = (type.isUnion() ? type.types : [type]).map((t) =>
            t.isStringLiteral() ? t.value : undefined,
          );
          if (literals.some((l) => l === undefined))
            throw new Error(`${node.name?.text ?? '?'}: its code type is not a union of string literals`);
          const codes = domains.get(domain.text) ?? new Set<string>();
          for (const code of literals) codes.add(code ?? '');
          domains.set(domain.text, codes);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return domains;
}

function codesInDoc(): Map<string, Set<string>> {
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Codes per domain'), doc.indexOf('## Adding a code'));
  const rows = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const domain = /^`([a-z-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!domain) continue;
    rows.set(domain, new Set([...(cells[2] ?? '').matchAll(/`([a-z-]+)`/g)].map((m) => m[1] ?? '')));
  }
  return rows;
}

describe('docs/errors.md', () => {
  const code = codesInCode();
  const doc = codesInDoc();

  it('finds the domain errors of the services', () => {
    expect([...code.keys()]).toEqual(expect.arrayContaining(['emr', 'chart', 'notifications', 'account']));
  });

  it.each([...code.entries()])('lists every code of the %s domain, and no other', (domain, codes) => {
    expect([...(doc.get(domain) ?? [])].sort()).toEqual([...codes].sort());
  });

  it('has no row for a domain that raises no error (but the generic request codes)', () => {
    expect([...doc.keys()].filter((d) => !code.has(d) && d !== 'request')).toEqual([]);
  });
});
