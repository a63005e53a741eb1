/**
 * Where pr-creator keeps its state file (checkpoints, memory, PR history, event outbox) when the policy names
 * none: the platform's per-user state directory, never the working directory, so a run inside a repository
 * leaves nothing behind in it. Pure: the environment, platform and home folder are passed in (or read from
 * the process when left out).
 */
import os from "node:os";
import path from "node:path";

export const STATE_FILE_NAME = "state.db";
const APP_DIR = "pr-creator";

export interface StateLocationInput {
  env?: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
  home?: string;
}

export interface StateLocation {
  /** Absolute path of the state file. */
  file: string;
  /** What chose the folder, for people: "PR_CREATOR_STATE_DIR", "XDG_STATE_HOME" or "the platform default". */
  from: "PR_CREATOR_STATE_DIR" | "XDG_STATE_HOME" | "LOCALAPPDATA" | "platform default";
}

const set = (value: string | undefined): string | undefined => (value?.trim() ? value.trim() : undefined);

/**
 * `$PR_CREATOR_STATE_DIR/state.db`; else `$XDG_STATE_HOME/pr-creator/state.db` (an absolute XDG_STATE_HOME, as
 * the XDG spec asks); else the platform's folder: `%LOCALAPPDATA%\pr-creator` on Windows,
 * `~/Library/Application Support/pr-creator` on macOS, `~/.local/state/pr-creator` elsewhere.
 */
export function defaultStateLocation(input: StateLocationInput = {}): StateLocation {
  const env = input.env ?? process.env;
  const platform = input.platform ?? process.platform;
  const paths = platform === "win32" ? path.win32 : path.posix;
  const home = () => input.home ?? os.homedir();
  const explicit = set(env.PR_CREATOR_STATE_DIR);
  if (explicit) return { file: paths.join(paths.resolve(explicit), STATE_FILE_NAME), from: "PR_CREATOR_STATE_DIR" };
  const xdg = set(env.XDG_STATE_HOME);
  if (xdg && paths.isAbsolute(xdg)) return { file: paths.join(xdg, APP_DIR, STATE_FILE_NAME), from: "XDG_STATE_HOME" };
  if (platform === "win32") {
    const local = set(env.LOCALAPPDATA);
    if (local) return { file: paths.join(local, APP_DIR, STATE_FILE_NAME), from: "LOCALAPPDATA" };
    return { file: paths.join(home(), "AppData", "Local", APP_DIR, STATE_FILE_NAME), from: "platform default" };
  }
  if (platform === "darwin")
    return {
      file: paths.join(home(), "Library", "Application Support", APP_DIR, STATE_FILE_NAME),
      from: "platform default",
    };
  return { file: paths.join(home(), ".local", "state", APP_DIR, STATE_FILE_NAME), from: "platform default" };
}

/** The state file used when the policy names none (see defaultStateLocation). */
export const defaultStateFile = (input?: StateLocationInput): string => defaultStateLocation(input).file;
