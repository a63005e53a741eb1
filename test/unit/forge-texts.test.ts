import { describe, expect, it } from "vitest";
import { wholeTextFromPatch } from "../../src/forges/texts.js";

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
