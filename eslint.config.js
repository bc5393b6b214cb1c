// Lint: typescript-eslint's recommended rules plus a few of our own lessons. Layering (which
// folder may import which) and banned APIs in the deterministic core are checked by
// test/tidy.test.ts, where the rules can name the design document they come from.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/kafka/protocol/generated/**", "src/zookeeper/generated/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.object.name=/^(test|it|describe|suite)$/][callee.property.name=/^(only|skip|todo)$/]",
          message: "no skipped, todo or only tests: a skipped test hides a failure",
        },
        {
          selector: "Property[key.name=/^(skip|todo|only)$/][value.value=true]",
          message: "no { skip: true } / { todo: true } / { only: true } test options",
        },
      ],
    },
  },
  {
    files: ["tools/**/*.mjs", "eslint.config.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
