// Print, as JSON, the property names of every JSDoc typedef of js/src/lib/traits.js and
// js/src/lib/messages.js, as TypeScript resolves them (intersections such as
// `StatusTraits & {...}` flattened), with whether each is optional and, when its type is one
// string literal (a message's `type`), that literal. tests/test_contract.py compares them with
// the Python side. Usage: node scripts/contract.mjs [file.js ...] (paths relative to js/).
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_FILES = ["src/lib/traits.js", "src/lib/messages.js"];

const files = (process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_FILES).map((f) => path.resolve(JS, f));
const configPath = path.join(JS, "tsconfig.json");
const config = ts.readConfigFile(configPath, ts.sys.readFile);
if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, "\n"));
const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, JS, undefined, configPath);
const program = ts.createProgram(files, { ...options, allowJs: true, checkJs: true, noEmit: true });
const checker = program.getTypeChecker();

/** @param {ts.Diagnostic} d */
function describe(d) {
  const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (!d.file || d.start === undefined) return text;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${path.relative(JS, d.file.fileName)}:${line + 1}:${character + 1}: ${text}`;
}

const out = { files: {}, diagnostics: [] };
for (const file of files) {
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`not found: ${file}`);
  out.diagnostics.push(...[...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(describe));
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${file} is not a module (it needs an export)`);
  const typedefs = {};
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    if (!(symbol.flags & ts.SymbolFlags.TypeAlias)) continue;
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    const entry = { properties: {} };
    const aliased = type.aliasSymbol && type.aliasSymbol !== symbol ? type.aliasSymbol.getName() : null;
    if (aliased) entry.alias_of = aliased; // `@typedef {Other} Name`
    if (type.isUnion()) entry.union = type.types.map((t) => t.aliasSymbol?.getName() ?? checker.typeToString(t));
    const properties = entry.properties;
    for (const prop of checker.getPropertiesOfType(type)) {
      const field = { optional: Boolean(prop.flags & ts.SymbolFlags.Optional) };
      const declaration = prop.valueDeclaration ?? prop.declarations?.[0];
      const propType = declaration ? checker.getTypeOfSymbolAtLocation(prop, declaration) : checker.getTypeOfSymbol(prop);
      const literal = checker.getNonNullableType(propType);
      if (literal.isStringLiteral()) field.literal = literal.value;
      properties[prop.getName()] = field;
    }
    typedefs[symbol.getName()] = entry;
  }
  out.files[path.relative(JS, file).split(path.sep).join("/")] = typedefs;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
