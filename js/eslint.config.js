// ESLint (flat config): @eslint/js recommended for the widget modules and their tests (browser
// globals) and the build scripts (Node globals), plus a ban on the DOM's HTML-parsing sinks:
// text from Python enters the page through textContent and attribute values only.
import js from "@eslint/js";
import globals from "globals";

const HTML_SINKS = [
  ...["innerHTML", "outerHTML"].map((name) => ({
    selector: `AssignmentExpression > MemberExpression.left[property.name='${name}']`,
    message: `${name} parses HTML: set textContent (dom.js setText) instead`,
  })),
  ...["insertAdjacentHTML", "createContextualFragment"].map((name) => ({
    selector: `CallExpression > MemberExpression.callee[property.name='${name}']`,
    message: `${name} parses HTML: build elements with dom.js h() instead`,
  })),
  {
    selector: "CallExpression > MemberExpression.callee[object.name='document'][property.name=/^write/]",
    message: "document.write parses HTML: build elements with dom.js h() instead",
  },
  { selector: "NewExpression[callee.name='DOMParser']", message: "DOMParser parses HTML" },
];

export default [
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.js", "test/**/*.js"],
    languageOptions: { globals: globals.browser },
    rules: { "no-restricted-syntax": ["error", ...HTML_SINKS] },
  },
  {
    files: ["*.mjs", "scripts/**/*.mjs", "eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
];
