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

/**
 * The domain and code type a class declares: `extends DomainError<Code>` with a literal `domain`,
 * or `extends domainErrorClass<Code>('domain', …)`. The factory's own generic class is skipped.
 */
function declaredCodes(
  node: ts.ClassDeclaration,
  source: ts.SourceFile,
): { domain: string; codeType: ts.TypeNode } | undefined {
  for (const base of node.heritageClauses?.flatMap((h) => [...h.types]) ?? []) {
    const call = base.expression;
    if (ts.isCallExpression(call) && call.expression.getText(source) === 'domainErrorClass') {
      const [codeType] = call.typeArguments ?? [];
      const [domain] = call.arguments;
      if (!codeType || !domain || !ts.isStringLiteral(domain))
        throw new Error(`${node.name?.text ?? '?'}: domainErrorClass needs a code type and a literal domain`);
      return { domain: domain.text, codeType };
    }
    const codeType = base.typeArguments?.[0];
    if (base.expression.getText(source) !== 'DomainError' || !codeType) continue;
    const domain = node.members
      .filter(ts.isPropertyDeclaration)
      .find((m) => m.name.getText(source) === 'domain')?.initializer;
    if (domain && ts.isIdentifier(domain) && source.fileName.endsWith('libs/errors/src/domain-error.ts'))
      return undefined;
    if (!domain || !ts.isStringLiteral(domain))
      throw new Error(`${node.name?.text ?? '?'}: no literal domain`);
    return { domain: domain.text, codeType };
  }
  return undefined;
}

function codesInCode(): Map<string, Set<string>> {
  const files = ['services', 'libs']
    .flatMap((top) => readdirSync(join(root, top)).map((p) => join(root, top, p, 'src')))
    .filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    .flatMap(sources)
    .filter((file) => /extends (DomainError|domainErrorClass)</.test(readFileSync(file, 'utf8')));
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
        const found = declaredCodes(node, source);
        if (found) {
          const type = checker.getTypeFromTypeNode(found.codeType);
          const literals = (type.isUnion() ? type.types : [type]).map((t) =>
            t.isStringLiteral() ? t.value : undefined,
          );
          if (literals.some((l) => l === undefined))
            throw new Error(`${node.name?.text ?? '?'}: its code type is not a union of string literals`);
          const codes = domains.get(found.domain) ?? new Set<string>();
          for (const code of literals) codes.add(code ?? '');
          domains.set(found.domain, codes);
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
