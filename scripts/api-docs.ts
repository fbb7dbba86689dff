// `npm run docs:api`: writes API.md, the reference of the construct library's public API (what constructs/index.ts
// exports), from the source and its doc comments, in the manner of cdk8s-plus' generated API.md. A test fails
// while API.md differs from what this writes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '..');
const entryPoint = path.join(root, 'constructs', 'index.ts');
export const apiDocsFile = path.join(root, 'API.md');

/** One row of a members table. */
interface Member { readonly name: string; readonly type: string; readonly optional: boolean; readonly defaultValue?: string; readonly summary: string }

function oneLine(text: string): string {
  return text.replace(/\{@link\s+([^}\s|]+)[^}]*\}/g, '`$1`').replace(/\s*\n\s*/g, ' ').trim();
}

/** Escapes what would break a Markdown table cell. */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

function docSummary(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  return oneLine(ts.displayPartsToString(symbol.getDocumentationComment(checker)));
}

function tagText(symbol: ts.Symbol, tagName: string): string | undefined {
  const tag = symbol.getJsDocTags().find((candidate) => candidate.name === tagName);
  return tag === undefined ? undefined : oneLine(ts.displayPartsToString(tag.text));
}

/** The type as written in the declaration (stable and readable), else as the checker prints it. */
function declaredType(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  const declaration = symbol.valueDeclaration ?? symbol.declarations?.[0];
  if (declaration !== undefined && 'type' in declaration && (declaration as { type?: ts.TypeNode }).type !== undefined) {
    return oneLine(((declaration as { type: ts.TypeNode }).type).getText());
  }
  if (declaration === undefined) return 'unknown';
  return checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, declaration), undefined, ts.TypeFormatFlags.NoTruncation);
}

function membersTable(members: readonly Member[], withDefaults: boolean): string[] {
  if (members.length === 0) return [];
  const header = withDefaults ? ['| Name | Type | Default | Description |', '| --- | --- | --- | --- |'] : ['| Name | Type | Description |', '| --- | --- | --- |'];
  const rows = members.map((member) => {
    const name = `\`${member.name}\`${member.optional ? '?' : ''}`;
    const type = `\`${cell(member.type)}\``;
    return withDefaults
      ? `| ${name} | ${type} | ${member.defaultValue === undefined ? (member.optional ? '-' : 'required') : cell(member.defaultValue)} | ${cell(member.summary)} |`
      : `| ${name} | ${type} | ${cell(member.summary)} |`;
  });
  return [...header, ...rows, ''];
}

function isPublicInstanceProperty(declaration: ts.Declaration): boolean {
  const flags = ts.getCombinedModifierFlags(declaration);
  return (ts.isPropertyDeclaration(declaration) || ts.isGetAccessorDeclaration(declaration) || ts.isParameter(declaration))
    && (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected | ts.ModifierFlags.Static)) === 0;
}

function classSection(checker: ts.TypeChecker, symbol: ts.Symbol, declaration: ts.ClassDeclaration): string[] {
  const lines: string[] = [];
  const constructor = declaration.members.find(ts.isConstructorDeclaration);
  // A private constructor: the class is made by its static factories, listed under Methods.
  if (constructor !== undefined && (ts.getCombinedModifierFlags(constructor) & ts.ModifierFlags.Private) === 0) {
    const parameters = constructor.parameters.map((parameter) => parameter.getText().replace(/\s*=\s*[^,]+$/, '')).join(', ');
    lines.push('#### Initializer', '', '```ts', `new ${symbol.name}(${oneLine(parameters)})`, '```', '');
  }
  const properties: Member[] = [];
  const methods: string[] = [];
  for (const member of declaration.members) {
    const memberSymbol = member.name === undefined ? undefined : checker.getSymbolAtLocation(member.name);
    if (memberSymbol === undefined || memberSymbol.name.startsWith('_')) continue;
    const flags = ts.getCombinedModifierFlags(member);
    if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    if (ts.isMethodDeclaration(member)) {
      const isStatic = (flags & ts.ModifierFlags.Static) !== 0;
      const parameters = member.parameters.map((parameter) => parameter.getText()).join(', ');
      const returns = member.type === undefined ? '' : `: ${member.type.getText()}`;
      methods.push(`- \`${isStatic ? `${symbol.name}.` : ''}${memberSymbol.name}(${oneLine(parameters)})${oneLine(returns)}\`: ${docSummary(checker, memberSymbol)}`);
    } else if (isPublicInstanceProperty(member)) {
      properties.push({ name: memberSymbol.name, type: declaredType(checker, memberSymbol), optional: false, summary: docSummary(checker, memberSymbol) });
    }
  }
  if (properties.length > 0) lines.push('#### Properties', '', ...membersTable(properties, false));
  if (methods.length > 0) lines.push('#### Methods', '', ...methods, '');
  return lines;
}

/** A behavioural interface (`IKeyServer`): its own properties and methods, not those of the construct it extends. */
function behaviourSection(checker: ts.TypeChecker, declaration: ts.InterfaceDeclaration): string[] {
  const properties: Member[] = [];
  const methods: string[] = [];
  for (const member of declaration.members) {
    const symbol = member.name === undefined ? undefined : checker.getSymbolAtLocation(member.name);
    if (symbol === undefined) continue;
    if (ts.isMethodSignature(member)) {
      const parameters = member.parameters.map((parameter) => parameter.getText()).join(', ');
      methods.push(`- \`${symbol.name}(${oneLine(parameters)})${member.type === undefined ? '' : `: ${oneLine(member.type.getText())}`}\`: ${docSummary(checker, symbol)}`);
    } else {
      properties.push({ name: symbol.name, type: declaredType(checker, symbol), optional: (symbol.flags & ts.SymbolFlags.Optional) !== 0, summary: docSummary(checker, symbol) });
    }
  }
  const heritage = declaration.heritageClauses?.map((clause) => clause.getText()).join(' ');
  return [
    ...(heritage === undefined ? [] : [`_${oneLine(heritage)}_`, '']),
    ...(properties.length > 0 ? ['#### Properties', '', ...membersTable(properties.map((property) => ({ ...property, name: `${property.name}${property.optional ? '?' : ''}`, optional: false })), false)] : []),
    ...(methods.length > 0 ? ['#### Methods', '', ...methods, ''] : []),
  ];
}

function interfaceSection(checker: ts.TypeChecker, declaration: ts.InterfaceDeclaration): string[] {
  const type = checker.getTypeAtLocation(declaration);
  const members = checker.getPropertiesOfType(type).map((property): Member => ({
    name: property.name,
    type: declaredType(checker, property),
    optional: (property.flags & ts.SymbolFlags.Optional) !== 0,
    defaultValue: tagText(property, 'default'),
    summary: docSummary(checker, property),
  }));
  const heritage = declaration.heritageClauses?.map((clause) => clause.getText()).join(' ');
  return [...(heritage === undefined ? [] : [`_${oneLine(heritage)}_`, '']), ...membersTable(members, true)];
}

function enumSection(checker: ts.TypeChecker, declaration: ts.EnumDeclaration): string[] {
  const rows = declaration.members.map((member) => {
    const symbol = checker.getSymbolAtLocation(member.name) as ts.Symbol;
    const value = member.initializer === undefined ? '' : member.initializer.getText();
    return `| \`${member.name.getText()}\` | \`${cell(value)}\` | ${cell(docSummary(checker, symbol))} |`;
  });
  return ['| Member | Value | Description |', '| --- | --- | --- |', ...rows, ''];
}

/** The Markdown of API.md for the library's current source. */
export function renderApiDocs(): string {
  const { config } = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
  const options = ts.convertCompilerOptionsFromJson(config.compilerOptions, root).options;
  const program = ts.createProgram([entryPoint], { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entryPoint) as ts.SourceFile) as ts.Symbol;
  const sections: Record<string, string[]> = { Constructs: [], Classes: [], Interfaces: [], Structs: [], Enums: [], Functions: [], Types: [], Constants: [] };

  const exported = checker.getExportsOfModule(moduleSymbol)
    .map((alias) => ({ name: alias.name, symbol: alias.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(alias) : alias }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const { name, symbol } of exported) {
    const declaration = symbol.declarations?.[0];
    if (declaration === undefined) continue;
    const source = path.relative(root, declaration.getSourceFile().fileName);
    const summary = docSummary(checker, symbol);
    const head = [`### ${name}`, '', ...(summary === '' ? [] : [summary, '']), `Defined in \`${source}\`.`, ''];
    if (ts.isClassDeclaration(declaration)) {
      const extendsConstruct = declaration.heritageClauses?.some((clause) => /\bConstruct\b/.test(clause.getText())) ?? false;
      sections[extendsConstruct ? 'Constructs' : 'Classes'].push(...head, ...classSection(checker, symbol, declaration));
    } else if (ts.isInterfaceDeclaration(declaration) && /^I[A-Z]/.test(name)) {
      sections.Interfaces.push(...head, ...behaviourSection(checker, declaration));
    } else if (ts.isInterfaceDeclaration(declaration)) {
      sections.Structs.push(...head, ...interfaceSection(checker, declaration));
    } else if (ts.isEnumDeclaration(declaration)) {
      sections.Enums.push(...head, ...enumSection(checker, declaration));
    } else if (ts.isFunctionDeclaration(declaration)) {
      const signature = oneLine(declaration.getText().slice(0, declaration.body === undefined ? undefined : declaration.body.getStart() - declaration.getStart()))
        .replace(/^export\s+/, '').replace(/\s*$/, '');
      sections.Functions.push(...head, '```ts', signature, '```', '');
    } else if (ts.isTypeAliasDeclaration(declaration)) {
      sections.Types.push(...head, '```ts', `type ${name} = ${oneLine(declaration.type.getText())}`, '```', '');
    } else if (ts.isVariableDeclaration(declaration)) {
      sections.Constants.push(...head, `Type: \`${cell(declaredType(checker, symbol))}\``, '');
    }
  }
  const lines = [
    '# API Reference',
    '',
    '<!-- Generated by `npm run docs:api` (scripts/api-docs.ts) from constructs/index.ts and its doc comments. Do not edit. -->',
    '',
    'The public API of the construct library: everything `import { ... } from \'key-server\'` provides.',
    '',
  ];
  for (const [title, body] of Object.entries(sections)) {
    if (body.length > 0) lines.push(`## ${title}`, '', ...body);
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

if (require.main === module) {
  fs.writeFileSync(apiDocsFile, renderApiDocs());
  process.stderr.write(`docs:api: wrote ${path.relative(process.cwd(), apiDocsFile)}\n`);
}
