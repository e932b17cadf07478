// Bundle every widget module in src/ (one per Python widget class) into ../deconv_widgets/static/.
//   node build.mjs           minified production bundles (npm run build)
//   node build.mjs --dev     not minified, with inline source maps (npm run build:dev)
//   node build.mjs --watch   as --dev, rebuilt whenever a file of src/ changes (npm run watch)
import { build, context } from "esbuild";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const FLAGS = ["--dev", "--watch"];
const args = process.argv.slice(2);
const unknown = args.filter((a) => !FLAGS.includes(a));
if (unknown.length) {
  console.error(`build.mjs: unknown option ${unknown.join(" ")} (known: ${FLAGS.join(", ")})`);
  process.exit(2);
}
const watch = args.includes("--watch");
const dev = watch || args.includes("--dev");

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const entryPoints = readdirSync(src)
  .filter((f) => f.endsWith(".js") && !f.endsWith(".test.js"))
  .map((f) => join(src, f));

const options = {
  entryPoints,
  bundle: true,
  format: "esm",
  minify: !dev,
  // inline: anywidget hands the page the file's text, so a separate .map file would not be found
  sourcemap: dev ? "inline" : false,
  target: ["es2020"],
  outdir: join(here, "..", "deconv_widgets", "static"),
  logLevel: "info",
};

if (watch) {
  const ctx = await context(options);
  await ctx.watch();
  process.on("SIGINT", () => ctx.dispose().then(() => process.exit(0)));
} else {
  await build(options);
}
