import path from "node:path";
import { describe, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import { defaultStateLocation } from "../../src/domain/state-location.js";

describe("the default state file", () => {
  it("is state.db in PR_CREATOR_STATE_DIR on every platform, before XDG_STATE_HOME", () => {
    for (const platform of ["linux", "darwin", "win32"] as const) {
      const where = defaultStateLocation({
        env: { PR_CREATOR_STATE_DIR: "/srv/pr-state", XDG_STATE_HOME: "/xdg", LOCALAPPDATA: "C:\\Local" },
        platform,
        home: "/home/ada",
      });
      expect(where.from).toBe("PR_CREATOR_STATE_DIR");
      expect(where.file.replaceAll("\\", "/")).toMatch(/\/srv\/pr-state\/state\.db$/);
    }
  });

  it("is $XDG_STATE_HOME/pr-creator/state.db, else ~/.local/state/pr-creator/state.db on Linux", () => {
    expect(defaultStateLocation({ env: { XDG_STATE_HOME: "/xdg" }, platform: "linux", home: "/home/ada" })).toEqual({
      file: "/xdg/pr-creator/state.db",
      from: "XDG_STATE_HOME",
    });
    expect(defaultStateLocation({ env: {}, platform: "linux", home: "/home/ada" })).toEqual({
      file: "/home/ada/.local/state/pr-creator/state.db",
      from: "platform default",
    });
    // The XDG spec says a relative value is invalid and must be ignored.
    expect(
      defaultStateLocation({ env: { XDG_STATE_HOME: "rel/dir" }, platform: "linux", home: "/home/ada" }).file,
    ).toBe("/home/ada/.local/state/pr-creator/state.db");
  });

  it("is under Application Support on macOS and LOCALAPPDATA on Windows", () => {
    expect(defaultStateLocation({ env: {}, platform: "darwin", home: "/Users/ada" }).file).toBe(
      "/Users/ada/Library/Application Support/pr-creator/state.db",
    );
    expect(
      defaultStateLocation({ env: { LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local" }, platform: "win32" }).file,
    ).toBe("C:\\Users\\ada\\AppData\\Local\\pr-creator\\state.db");
    expect(defaultStateLocation({ env: {}, platform: "win32", home: "C:\\Users\\ada" }).file).toBe(
      "C:\\Users\\ada\\AppData\\Local\\pr-creator\\state.db",
    );
  });

  it("is what a policy without state_file uses, outside the working directory", () => {
    const policy = PolicySchema.parse({});
    expect(policy.state_file).toBe(path.join(process.env.PR_CREATOR_STATE_DIR!, "state.db"));
    expect(path.isAbsolute(policy.state_file)).toBe(true);
    expect(policy.state_file.startsWith(process.cwd() + path.sep)).toBe(false);
    // An explicit state_file still wins.
    expect(PolicySchema.parse({ state_file: "here.db" }).state_file).toBe("here.db");
  });
});
