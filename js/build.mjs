// Bundle every widget module in src/ (one per Python widget class) into ../deconv_widgets/static/.
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const entryPoints = readdirSync(src)
  .filter((f) => f.endsWith(".js") && !f.endsWith(".test.js"))
  .map((f) => join(src, f));

await build({
  entryPoints,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  outdir: join(here, "..", "deconv_widgets", "static"),
  logLevel: "info",
});
