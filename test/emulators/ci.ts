/**
 * The CI both forge emulators run on pull requests, so scenario tests can script pipelines the same way on
 * either forge: every check starts `pending` when a PR opens (or its head moves) and settles after `delayMs`
 * to a verdict that may depend on the files at the PR's head.
 */
import { parseAllDocuments } from "yaml";

export type CiVerdict = "succeeded" | "failed";

/** The PR's head as CI sees it: every file it changes against its target, with its new text (null = deleted). */
export type CiFiles = ReadonlyMap<string, string | null>;

export interface CiCheckSpec {
  name: string;
  /** How long the check runs; 0 settles it on the next tick. */
  delayMs?: number;
  verdict: CiVerdict | ((files: CiFiles) => CiVerdict);
  /** The check's description when it fails. */
  failure?: string;
}

/** Runs a spec's verdict; a throwing verdict function fails the check rather than the emulator. */
export function judge(spec: CiCheckSpec, files: CiFiles): CiVerdict {
  if (typeof spec.verdict === "string") return spec.verdict;
  try {
    return spec.verdict(files);
  } catch {
    return "failed";
  }
}

/** Fails when any changed `.yaml`/`.yml` file does not parse — a real check, not a scripted one. */
export function yamlValidation(delayMs = 0): CiCheckSpec {
  return {
    name: "yaml-validation",
    delayMs,
    failure: "YAML validation failed",
    verdict: (files) => {
      for (const [path, text] of files) {
        if (text === null || !/\.ya?ml$/i.test(path)) continue;
        if (parseAllDocuments(text).some((doc) => "errors" in doc && doc.errors.length > 0)) return "failed";
      }
      return "succeeded";
    },
  };
}

/** The seed's pipeline: YAML validation, a dry-run apply and a security scan. */
export function seedPipeline(
  opts: { delayMs?: number; dryRun?: CiVerdict; securityScan?: CiVerdict } = {},
): CiCheckSpec[] {
  const delayMs = opts.delayMs ?? 0;
  return [
    yamlValidation(delayMs),
    {
      name: "dry-run-apply",
      delayMs,
      verdict: opts.dryRun ?? "succeeded",
      failure: "kubectl apply --dry-run=server rejected the manifests",
    },
    {
      name: "security-scan",
      delayMs,
      verdict: opts.securityScan ?? "succeeded",
      failure: "security scan found a critical issue",
    },
  ];
}
