import { describe, expect, it } from "vitest";
import { computeLabels, domainLabel, lacksTests } from "../../src/policy/labels.js";
import { routeReviewers } from "../../src/policy/reviewers.js";
import { scopeFit, words } from "../../src/policy/scope.js";
import { SEED_HANDLER, SEED_TESTS, file, makePolicy, seedTrace } from "./builders.js";

const policy = makePolicy();

describe("routeReviewers", () => {
  it("the seed's mandatory reviewers are required", () => {
    expect(routeReviewers("Order", policy)).toEqual([
      { name: "TechLeadAgent", required: true },
      { name: "QAAssistantAgent", required: true },
    ]);
  });

  it("adds the scope's reviewers after the mandatory ones, matching the scope case-insensitively", () => {
    const p = makePolicy({
      reviewers: { by_scope: { order: ["OrderOwner", "optional:DocsAgent"], Billing: ["BillingOwner"] } },
    });
    const expected = [
      { name: "TechLeadAgent", required: true },
      { name: "QAAssistantAgent", required: true },
      { name: "OrderOwner", required: true },
      { name: "DocsAgent", required: false },
    ];
    expect(routeReviewers("Order", p)).toEqual(expected);
    expect(routeReviewers("ORDER", p)).toEqual(expected);
    expect(routeReviewers("Billing", p).map((r) => r.name)).toEqual([
      "TechLeadAgent",
      "QAAssistantAgent",
      "BillingOwner",
    ]);
    expect(routeReviewers("Shipping", p).map((r) => r.name)).toEqual(["TechLeadAgent", "QAAssistantAgent"]);
  });

  it("trims the name after optional:", () => {
    const p = makePolicy({ reviewers: { mandatory: [], by_scope: { Order: ["optional:  Security"] } } });
    expect(routeReviewers("Order", p)).toEqual([{ name: "Security", required: false }]);
  });

  it("de-duplicates case-insensitively; a required mention beats an optional one", () => {
    const p = makePolicy({
      reviewers: {
        mandatory: ["TechLeadAgent"],
        by_scope: { Order: ["optional:techleadagent", "optional:Sec", "SEC", "optional:Docs", "optional:docs"] },
      },
    });
    expect(routeReviewers("Order", p)).toEqual([
      { name: "TechLeadAgent", required: true },
      { name: "Sec", required: true },
      { name: "Docs", required: false },
    ]);
  });

  it("does not mutate the policy between calls", () => {
    const p = makePolicy({ reviewers: { mandatory: [], by_scope: { Order: ["optional:Sec", "Sec"] } } });
    expect(routeReviewers("Order", p)).toEqual([{ name: "Sec", required: true }]);
    expect(p.reviewers.by_scope).toEqual({ Order: ["optional:Sec", "Sec"] });
    expect(routeReviewers("Order", p)).toEqual([{ name: "Sec", required: true }]);
  });

  it("no mandatory reviewers and no scope entry yields none", () => {
    expect(routeReviewers("Order", makePolicy({ reviewers: { mandatory: [] } }))).toEqual([]);
  });
});

describe("lacksTests (requires-tests trigger)", () => {
  it("a pure rename of code asks for no tests; a rename with edits, or one whose line counts are unknown, does", () => {
    const moved = file("src/Order/Projection.cs", "renamed", {
      old_path: "src/Order/Mapper.cs",
      additions: 0,
      deletions: 0,
    });
    expect(lacksTests([moved], policy)).toBe(false);
    expect(lacksTests([{ ...moved, additions: 2 }], policy)).toBe(true);
    expect(lacksTests([moved], policy, false)).toBe(true);
  });

  it("code changed and no test changed → lacks tests", () => {
    expect(lacksTests([file("src/Application/Handlers/CreateOrderHandler.cs")], policy)).toBe(true);
    expect(lacksTests([file("CreateOrderHandler.cs")], policy)).toBe(true);
    expect(lacksTests([file("src/index.ts", "modified"), file("README.md")], policy)).toBe(true);
  });

  it("a test changed alongside code → has tests", () => {
    expect(lacksTests([file(SEED_HANDLER), file(SEED_TESTS)], policy)).toBe(false);
    expect(lacksTests([file("src/x.ts"), file("src/x.test.ts")], policy)).toBe(false);
    expect(lacksTests([file("src/x.ts"), file("src/x.spec.ts")], policy)).toBe(false);
    expect(lacksTests([file("pkg/x.go"), file("pkg/x_test.go")], policy)).toBe(false);
    expect(lacksTests([file("app/x.py"), file("app/test_x.py")], policy)).toBe(false);
    expect(lacksTests([file("src/x.ts"), file("src/__tests__/x.ts")], policy)).toBe(false);
    expect(lacksTests([file("src/x.ts"), file("spec/fixtures/data.json")], policy)).toBe(false);
  });

  it("only docs or config changed → no tests needed", () => {
    expect(lacksTests([file("README.md"), file("docs/guide.md")], policy)).toBe(false);
    expect(lacksTests([file("package.json", "modified")], policy)).toBe(false);
    expect(lacksTests([], policy)).toBe(false);
  });

  it("a file under a test folder is a test, not code", () => {
    expect(lacksTests([file("tests/Order/Helpers.cs")], policy)).toBe(false);
  });

  it("deleted files count for neither side", () => {
    expect(lacksTests([file("src/Old.cs", "deleted")], policy)).toBe(false);
    expect(lacksTests([file("src/New.cs"), file("tests/OldTests.cs", "deleted")], policy)).toBe(true);
    expect(lacksTests([file("src/Old.cs", "deleted"), file("tests/NewTests.cs")], policy)).toBe(false);
  });

  it("renamed and modified code counts as changed code", () => {
    expect(lacksTests([file("src/B.cs", "renamed", { old_path: "src/A.cs" })], policy)).toBe(true);
  });

  it("uses the policy's globs", () => {
    const p = makePolicy({ labels: { requires_tests: { code_globs: ["**/*.sql"], test_globs: ["checks/**"] } } });
    expect(lacksTests([file("db/migrate.sql")], p)).toBe(true);
    expect(lacksTests([file("db/migrate.sql"), file("checks/migrate.sql")], p)).toBe(false);
    expect(lacksTests([file("src/x.cs")], p)).toBe(false);
  });
});

describe("domainLabel and computeLabels", () => {
  it("the domain label is the scope in lower case with spaces as dashes", () => {
    expect(domainLabel("Order", policy)).toBe("domain:order");
    expect(domainLabel("Order Management", policy)).toBe("domain:order-management");
    expect(domainLabel("Order", makePolicy({ labels: { domain: "area/<scope>/<scope>" } }))).toBe("area/order/order");
  });

  it('an empty domain pattern ("") turns the domain label off', () => {
    const p = makePolicy({ labels: { domain: "" } });
    expect(domainLabel("Order", p)).toBeUndefined();
    expect(computeLabels("Order", [file(SEED_HANDLER), file(SEED_TESTS)], p)).toEqual(["traceable", "generated-by:AI"]);
  });

  it("the seed's labels: domain:order, traceable, generated-by:AI", () => {
    expect(computeLabels("Order", [file(SEED_HANDLER), file(SEED_TESTS)], policy)).toEqual([
      "domain:order",
      "traceable",
      "generated-by:AI",
    ]);
  });

  it("adds requires-tests when code changed without a test", () => {
    expect(computeLabels("Order", [file(SEED_HANDLER)], policy)).toEqual([
      "domain:order",
      "traceable",
      "generated-by:AI",
      "requires-tests",
    ]);
  });

  it("no requires-tests for docs only, or for a test change", () => {
    expect(computeLabels("Order", [file("docs/order.md")], policy)).toEqual([
      "domain:order",
      "traceable",
      "generated-by:AI",
    ]);
    expect(computeLabels("Order", [file(SEED_TESTS)], policy)).toEqual([
      "domain:order",
      "traceable",
      "generated-by:AI",
    ]);
  });

  it("the requires-tests label can be renamed or disabled", () => {
    const renamed = makePolicy({ labels: { requires_tests: { label: "needs-tests" } } });
    expect(computeLabels("Order", [file(SEED_HANDLER)], renamed)).toEqual([
      "domain:order",
      "traceable",
      "generated-by:AI",
      "needs-tests",
    ]);
    const off = makePolicy({ labels: { requires_tests: { enabled: false } } });
    expect(computeLabels("Order", [file(SEED_HANDLER)], off)).toEqual(["domain:order", "traceable", "generated-by:AI"]);
  });

  it("removes duplicates, keeping the first position", () => {
    const p = makePolicy({ labels: { always: ["domain:order", "traceable", "traceable"] } });
    expect(computeLabels("Order", [file(SEED_TESTS)], p)).toEqual(["domain:order", "traceable"]);
  });
});

describe("words", () => {
  it("splits paths and camelCase into lower-case words", () => {
    expect(words("src/CreateOrderHandler.cs")).toEqual(["src", "create", "order", "handler", "cs"]);
    expect(words("src/Application/Handlers/CreateOrderHandler.cs")).toEqual([
      "src",
      "application",
      "handlers",
      "create",
      "order",
      "handler",
      "cs",
    ]);
    expect(words("tests/Order/x.cs")).toEqual(["tests", "order", "x", "cs"]);
  });

  it("keeps acronyms together and splits them from the next word", () => {
    expect(words("APIKeyHandler")).toEqual(["api", "key", "handler"]);
    expect(words("HTTPServer")).toEqual(["http", "server"]);
    expect(words("order2Handler")).toEqual(["order2", "handler"]);
  });

  it("splits on any non-alphanumeric character", () => {
    expect(words("order-management_service v2")).toEqual(["order", "management", "service", "v2"]);
    expect(words("Order Management")).toEqual(["order", "management"]);
    expect(words("")).toEqual([]);
    expect(words("--//..")).toEqual([]);
  });

  it('"Reorder" is one word, not "re" + "order"', () => {
    expect(words("src/Reorder.cs")).toEqual(["src", "reorder", "cs"]);
    expect(words("Orders")).toEqual(["orders"]);
  });
});

describe("scopeFit", () => {
  const trace = seedTrace();

  it("a linked file is linked", () => {
    expect(scopeFit(SEED_HANDLER, trace, policy)).toBe("linked");
  });

  it("a linked file must match exactly", () => {
    expect(
      scopeFit(
        "other/src/Application/Handlers/CreateOrderHandler.cs",
        seedTrace({ component_scope: "Billing" }),
        policy,
      ),
    ).toBe("outside");
  });

  it("a file matching the trace's scope paths is scope_path", () => {
    const billing = seedTrace({
      component_scope: "Billing",
      linked_files: [],
      scope_paths: ["src/Payments/**", "lib/*.cs"],
    });
    expect(scopeFit("src/Payments/Capture/Invoice.cs", billing, policy)).toBe("scope_path");
    expect(scopeFit("lib/Money.cs", billing, policy)).toBe("scope_path");
    expect(scopeFit("lib/deep/Money.cs", billing, policy)).toBe("outside");
  });

  it("always_in_scope globs match at any depth, including the root and dot files", () => {
    expect(scopeFit("README.md", trace, policy)).toBe("always");
    expect(scopeFit("docs/design/overview.md", trace, policy)).toBe("always");
    expect(scopeFit("OrderService.sln", trace, policy)).toBe("always");
    expect(scopeFit("src/App/App.csproj", trace, policy)).toBe("always");
    expect(scopeFit(".gitignore", trace, policy)).toBe("always");
    expect(scopeFit("web/package.json", trace, policy)).toBe("always");
  });

  it("a path naming the scope as a word fits by name", () => {
    expect(scopeFit("src/Application/Handlers/CreateOrderHandler.cs", seedTrace({ linked_files: [] }), policy)).toBe(
      "name",
    );
    expect(scopeFit("tests/Order/CreateOrderHandlerTests.cs", trace, policy)).toBe("name");
    expect(scopeFit("tests/Order/x.cs", trace, policy)).toBe("name");
    expect(scopeFit("src/order_repository.py", trace, policy)).toBe("name");
  });

  it('"Order" does not match inside another word (Reorder, Ordering) but does match its plural (Orders)', () => {
    expect(scopeFit("src/Reorder.cs", trace, policy)).toBe("outside");
    expect(scopeFit("src/Orders/List.cs", trace, policy)).toBe("name");
    expect(scopeFit("src/Ordering.cs", trace, policy)).toBe("outside");
    expect(scopeFit("src/OrderSummary/List.cs", trace, policy)).toBe("name");
    expect(scopeFit("src/Billing/Invoice.cs", trace, policy)).toBe("outside");
  });

  it("a multi-word scope must appear as consecutive words", () => {
    const t = seedTrace({ component_scope: "Order Management", linked_files: [] });
    expect(scopeFit("src/OrderManagementService.cs", t, policy)).toBe("name");
    expect(scopeFit("src/order-management/api.ts", t, policy)).toBe("name");
    expect(scopeFit("src/ManagementOrder.cs", t, policy)).toBe("outside");
    expect(scopeFit("src/Order/Data/Management.cs", t, policy)).toBe("outside");
  });

  it("name matching can be turned off", () => {
    const p = makePolicy({ trace: { match_scope_in_path: false } });
    expect(scopeFit("tests/Order/x.cs", trace, p)).toBe("outside");
    expect(scopeFit(SEED_HANDLER, trace, p)).toBe("linked");
  });

  it("an empty always_in_scope list puts docs outside", () => {
    const p = makePolicy({ trace: { always_in_scope: [] } });
    expect(scopeFit("README.md", trace, p)).toBe("outside");
  });

  it("precedence: linked, then scope path, then always, then name", () => {
    const t = seedTrace({ linked_files: ["docs/Order.md"], scope_paths: ["docs/**"] });
    expect(scopeFit("docs/Order.md", t, policy)).toBe("linked");
    expect(scopeFit("docs/Other.md", t, policy)).toBe("scope_path");
    expect(scopeFit("Order.md", t, policy)).toBe("always");
  });
});
