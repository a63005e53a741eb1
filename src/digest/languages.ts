/** Which language a path is written in, by its extension or well-known file name. Pure. */

/** Languages whose declarations are read with a tree-sitter grammar. */
export const CODE_LANGUAGES = ["csharp", "typescript", "tsx", "javascript", "python", "go", "java"] as const;
export type CodeLanguage = (typeof CODE_LANGUAGES)[number];

/** Data languages whose keys are read with a real parser (`yaml`, JSON.parse). */
export type KeyLanguage = "yaml" | "json";

const BY_EXTENSION: Readonly<Record<string, string>> = {
  cs: "csharp",
  csx: "csharp",
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "javascript",
  py: "python",
  pyi: "python",
  go: "go",
  java: "java",
  yaml: "yaml",
  yml: "yaml",
  json: "json",
  jsonc: "json",
  json5: "json",
  md: "markdown",
  mdx: "markdown",
  markdown: "markdown",
  rst: "restructuredtext",
  adoc: "asciidoc",
  txt: "text",
  sql: "sql",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  ps1: "powershell",
  psm1: "powershell",
  bat: "batch",
  cmd: "batch",
  rb: "ruby",
  rs: "rust",
  php: "php",
  kt: "kotlin",
  kts: "kotlin",
  swift: "swift",
  scala: "scala",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  hpp: "cpp",
  fs: "fsharp",
  fsx: "fsharp",
  vb: "vb",
  css: "css",
  scss: "scss",
  less: "less",
  html: "html",
  htm: "html",
  cshtml: "razor",
  razor: "razor",
  vue: "vue",
  svelte: "svelte",
  xml: "xml",
  csproj: "xml",
  fsproj: "xml",
  vbproj: "xml",
  props: "xml",
  targets: "xml",
  config: "xml",
  resx: "xml",
  toml: "toml",
  ini: "ini",
  cfg: "ini",
  properties: "properties",
  env: "dotenv",
  tf: "terraform",
  bicep: "bicep",
  proto: "protobuf",
  graphql: "graphql",
  gql: "graphql",
  gradle: "groovy",
  groovy: "groovy",
};

const BY_NAME: Readonly<Record<string, string>> = {
  dockerfile: "dockerfile",
  makefile: "make",
  jenkinsfile: "groovy",
  ".env": "dotenv",
  ".editorconfig": "ini",
  ".gitignore": "text",
  ".gitattributes": "text",
};

/** Languages that hold program code (a changed file in one is `source` unless a rule says otherwise). */
const PROGRAMMING = new Set([
  ...CODE_LANGUAGES,
  "sql",
  "shell",
  "powershell",
  "batch",
  "ruby",
  "rust",
  "php",
  "kotlin",
  "swift",
  "scala",
  "c",
  "cpp",
  "fsharp",
  "vb",
  "css",
  "scss",
  "less",
  "html",
  "razor",
  "vue",
  "svelte",
  "terraform",
  "bicep",
  "protobuf",
  "graphql",
  "groovy",
  "dockerfile",
  "make",
]);

/** Languages that configure rather than program. */
const CONFIGURATION = new Set(["yaml", "json", "xml", "toml", "ini", "properties", "dotenv"]);

export function baseName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? path : path.slice(slash + 1);
}

/** The language of a path, or null when neither its extension nor its name is known. */
export function languageOf(path: string): string | null {
  const name = baseName(path).toLowerCase();
  const named = BY_NAME[name];
  if (named) return named;
  // `.env.local`, `Dockerfile.prod`: the well-known stem decides.
  if (name.startsWith(".env.")) return "dotenv";
  if (name.startsWith("dockerfile.")) return "dockerfile";
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) return null;
  return BY_EXTENSION[name.slice(dot + 1)] ?? null;
}

export function isCodeLanguage(language: string | null): language is CodeLanguage {
  return language !== null && (CODE_LANGUAGES as readonly string[]).includes(language);
}

export function isKeyLanguage(language: string | null): language is KeyLanguage {
  return language === "yaml" || language === "json";
}

export function isProgrammingLanguage(language: string | null): boolean {
  return language !== null && PROGRAMMING.has(language);
}

export function isConfigurationLanguage(language: string | null): boolean {
  return language !== null && CONFIGURATION.has(language);
}
