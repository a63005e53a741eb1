import { describe, expect, it } from "vitest";
import {
  assembleTexts,
  readPlannedTexts,
  wholeTextFromPatch,
  type ReadText,
  type TextPlan,
  type TextSide,
} from "../../src/forges/texts.js";

describe("wholeTextFromPatch: an added or deleted file's text from its one-hunk patch", () => {
  it("an added file's lines, with the final newline unless the patch says there is none", () => {
    expect(wholeTextFromPatch("@@ -0,0 +1,2 @@\n+class A\n+{}", "after")).toBe("class A\n{}\n");
    expect(wholeTextFromPatch("@@ -0,0 +1 @@\n+one", "after")).toBe("one\n");
    expect(wholeTextFromPatch("@@ -0,0 +1,2 @@\n+a\n+\n", "after")).toBe("a\n\n");
    expect(wholeTextFromPatch("@@ -0,0 +1 @@\n+end\n\\ No newline at end of file", "after")).toBe("end");
  });

  it("a deleted file's lines", () => {
    expect(wholeTextFromPatch("@@ -1,2 +0,0 @@\n-# gone\n-bye", "before")).toBe("# gone\nbye\n");
  });

  it("anything else is undefined: an edit, the wrong side, a count the lines do not match, a second hunk", () => {
    expect(wholeTextFromPatch("@@ -1,2 +1,2 @@\n a\n-b\n+c", "after")).toBeUndefined();
    expect(wholeTextFromPatch("@@ -0,0 +1 @@\n+one", "before")).toBeUndefined();
    expect(wholeTextFromPatch("@@ -0,0 +1,3 @@\n+a\n+b", "after")).toBeUndefined();
    expect(wholeTextFromPatch("@@ -0,0 +1,1 @@\n+a\n@@ -0,0 +5,1 @@\n+b", "after")).toBeUndefined();
    expect(wholeTextFromPatch("", "after")).toBeUndefined();
  });
});

describe("readPlannedTexts: a path's texts are heard as soon as its last side is in", () => {
  const plans: TextPlan[] = [
    {
      path: "src/Slow.cs",
      listed: true,
      before: { commit: "b", path: "src/Slow.cs" },
      after: { commit: "h", path: "src/Slow.cs" },
    },
    {
      path: "src/Fast.cs",
      listed: true,
      before: { commit: "b", path: "src/Fast.cs" },
      after: { commit: "h", path: "src/Fast.cs" },
    },
    { path: "logo.png", listed: true, before: null, after: null },
    {
      path: "src/Gone.cs",
      listed: true,
      before: { commit: "b", path: "src/Gone.cs" },
      after: { commit: "h", path: "src/Gone.cs" },
    },
  ];

  it("hears the fast file while the slow one is still being read, and returns what assembleTexts would", async () => {
    let releaseSlow!: () => void;
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    const heard: string[] = [];
    const read = async (side: TextSide): Promise<ReadText> => {
      if (side.path === "src/Slow.cs" && side.commit === "h") await slow;
      if (side.path === "src/Gone.cs") return side.commit === "b" ? "class Gone {}\n" : undefined;
      return `${side.path}@${side.commit}`;
    };
    const done = readPlannedTexts(plans, 4, read, (path) => {
      heard.push(path);
      // The fast file is heard before the slow file's last side is answered.
      if (path === "src/Fast.cs") releaseSlow();
    });
    const texts = await done;
    expect(heard).toEqual(["logo.png", "src/Fast.cs", "src/Slow.cs"]);
    expect(texts).toEqual(
      assembleTexts(plans, (side) => (side.path === "src/Gone.cs" ? undefined : `${side.path}@${side.commit}`)),
    );
    expect(texts.get("src/Slow.cs")).toEqual({ before: "src/Slow.cs@b", after: "src/Slow.cs@h" });
    // A side that could not be read leaves its path out, and it is never heard.
    expect(texts.has("src/Gone.cs")).toBe(false);
  });

  it("keeps at most `limit` reads in flight, and a failed read fails the whole", async () => {
    let inFlight = 0;
    let most = 0;
    const texts = await readPlannedTexts(plans, 2, async (side) => {
      most = Math.max(most, ++inFlight);
      await Promise.resolve();
      inFlight--;
      return side.path;
    });
    expect(most).toBe(2);
    expect(texts.size).toBe(4);
    await expect(
      readPlannedTexts(plans, 2, (side) =>
        side.path === "src/Fast.cs" ? Promise.reject(new Error("boom")) : Promise.resolve("x"),
      ),
    ).rejects.toThrow("boom");
  });
});
