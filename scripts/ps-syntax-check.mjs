// ps-syntax-check FILE...: parses PowerShell scripts with the tree-sitter PowerShell grammar
// (WebAssembly, no PowerShell needed) and prints every syntax error as FILE:LINE:COL. Exit 1
// when any file has one. Installed with its pinned npm packages by scripts/get-tools.sh pscheck.
import { Parser, Language } from 'web-tree-sitter';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
await Parser.init();
const lang = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
const parser = new Parser();
parser.setLanguage(lang);
let bad = 0;
for (const f of process.argv.slice(2)) {
  const tree = parser.parse(readFileSync(f, 'utf8'));
  const walk = (n) => {
    if (n.isError || n.isMissing) {
      bad++;
      console.log(`${f}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${n.isMissing ? 'missing ' + n.type : 'syntax error'} near ${JSON.stringify(n.text.slice(0, 60))}`);
      return;
    }
    for (const c of n.children) walk(c);
  };
  walk(tree.rootNode);
}
process.exit(bad ? 1 : 0);
