import { writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import type { ChangeRequested, CommitCompleted } from "../domain/events.js";
import type { TraceRecord } from "../domain/trace.js";
import { createGitRepo } from "./git-fixture.js";

/** The seed's worked example: trace-ord-8128 for blueprint usecase-create-order in OrderService. */
export const SAMPLE_TRACES: TraceRecord[] = [
  {
    trace_id: "trace-ord-8128",
    blueprint_id: "usecase-create-order",
    blueprint_name: "Create Order",
    component_scope: "Order",
    description:
      "Customers place an order from a validated cart; the order is persisted and an OrderCreated event is published.",
    linked_files: ["src/Application/Handlers/CreateOrderHandler.cs"],
    scope_paths: [],
  },
  {
    trace_id: "trace-ord-8131",
    blueprint_id: "usecase-cancel-order",
    blueprint_name: "Cancel Order",
    component_scope: "Order",
    description:
      "Customers cancel an order that has not shipped; the order is marked cancelled and an OrderCancelled event is published.",
    linked_files: ["src/Application/Handlers/CancelOrderHandler.cs"],
    scope_paths: [],
  },
  {
    trace_id: "trace-pay-2201",
    blueprint_id: "usecase-capture-payment",
    blueprint_name: "Capture Payment",
    component_scope: "Billing",
    description: "Captures an authorised payment when an order ships.",
    linked_files: [],
    scope_paths: ["src/Billing/**"],
  },
];

/** The demo commit's handler and its tests (also the benchmark's commit on the forge emulators). */
export const HANDLER = `namespace OrderService.Application.Handlers;

public sealed class CreateOrderHandler(IOrderRepository orders, IEventPublisher events)
{
    public async Task<OrderId> Handle(CreateOrder command, CancellationToken ct)
    {
        var order = Order.Create(command.CustomerId, command.Lines);
        await orders.Add(order, ct);
        await events.Publish(new OrderCreated(order.Id), ct);
        return order.Id;
    }
}
`;

export const HANDLER_TESTS = `namespace OrderService.Tests.Order;

public class CreateOrderHandlerTests
{
    [Fact]
    public async Task Persists_the_order_and_publishes_OrderCreated()
    {
        var orders = new InMemoryOrderRepository();
        var events = new RecordingEventPublisher();
        var id = await new CreateOrderHandler(orders, events).Handle(SampleCommands.CreateOrder(), default);
        Assert.Contains(orders.All, o => o.Id == id);
        Assert.Single(events.Published.OfType<OrderCreated>());
    }
}
`;

export interface SampleRepo {
  dir: string;
  event: CommitCompleted;
  eventFile: string;
  /** A second, related change (CancelOrderHandler) on its own branch, for recall. */
  secondEvent: CommitCompleted;
  secondEventFile: string;
  /** A remediation from the SRE agent (seed WORKFLOW-005): grow the orders PVC on main. */
  changeEvent: ChangeRequested;
  changeEventFile: string;
  tracesFile: string;
}

export const SAMPLE_PVC = `# Orders database volume. Sized by the SRE team; see the capacity runbook.
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orders-data
  namespace: orders
  labels:
    app.kubernetes.io/name: orders-db
spec:
  accessModes:
    - ReadWriteOnce
  storageClassName: premium-ssd # zone-redundant
  resources:
    requests:
      storage: 10Gi # last grown 2025-11
`;

const CANCEL_HANDLER = `namespace OrderService.Application.Handlers;

public sealed class CancelOrderHandler(IOrderRepository orders, IEventPublisher events)
{
    public async Task Handle(CancelOrder command, CancellationToken ct)
    {
        var order = await orders.Get(command.OrderId, ct);
        order.Cancel();
        await orders.Save(order, ct);
        await events.Publish(new OrderCancelled(order.Id), ct);
    }
}
`;

const CANCEL_TESTS = `namespace OrderService.Tests.Order;

public class CancelOrderHandlerTests
{
    [Fact]
    public async Task Cancels_the_order_and_publishes_OrderCancelled()
    {
        var orders = InMemoryOrderRepository.With(SampleOrders.Open());
        var events = new RecordingEventPublisher();
        await new CancelOrderHandler(orders, events).Handle(SampleCommands.CancelOrder(), default);
        Assert.Single(events.Published.OfType<OrderCancelled>());
    }
}
`;

/**
 * Builds a small, realistic repository: `main` and `dev` with an order service, `feature/order-handler` with
 * the seed's commit adding the handler and its tests, and `feature/order-cancel` with a related second change.
 * `main` also holds the orders PVC manifest that a change request grows. Writes `traces.yaml`, `event.json`,
 * `event-2.json` and `event-3.json` (the change request) beside it.
 */
export async function buildSampleRepo(root: string): Promise<SampleRepo> {
  const repoDir = path.join(root, "OrderService");
  const repo = await createGitRepo(repoDir, { initialBranch: "main" });
  await repo.writeFile("README.md", "# OrderService\n\nOrders for the storefront.\n");
  await repo.writeFile("OrderService.sln", "Microsoft Visual Studio Solution File, Format Version 12.00\n");
  await repo.writeFile(
    "src/Domain/Order.cs",
    "namespace OrderService.Domain;\n\npublic sealed record Order(OrderId Id, CustomerId CustomerId);\n",
  );
  await repo.writeFile("deploy/orders/pvc.yaml", SAMPLE_PVC);
  await repo.commit("chore: scaffold OrderService");
  await repo.checkout("dev", { create: true });
  await repo.writeFile(
    "src/Domain/OrderId.cs",
    "namespace OrderService.Domain;\n\npublic readonly record struct OrderId(Guid Value);\n",
  );
  await repo.commit("feat(order): add OrderId value object [trace:ord-8100]");
  await repo.checkout("feature/order-handler", { create: true });
  await repo.writeFile("src/Application/Handlers/CreateOrderHandler.cs", HANDLER);
  await repo.writeFile("tests/Order/CreateOrderHandlerTests.cs", HANDLER_TESTS);
  const hash = await repo.commit(
    "feat(order): implement CreateOrderHandler [trace:ord-8128]\n\n- Persist the new order through IOrderRepository\n- Publish OrderCreated once the order is stored\n",
  );

  await repo.checkout("dev");
  await repo.checkout("feature/order-cancel", { create: true });
  await repo.writeFile("src/Application/Handlers/CancelOrderHandler.cs", CANCEL_HANDLER);
  await repo.writeFile("tests/Order/CancelOrderHandlerTests.cs", CANCEL_TESTS);
  const cancelHash = await repo.commit(
    "feat(order): implement CancelOrderHandler [trace:ord-8131]\n\n- Cancel only orders that have not shipped\n- Publish OrderCancelled once the order is saved\n",
  );

  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const base = { event: "CommitCompleted", repo: "OrderService", agent: "code-committer-agent", timestamp } as const;
  const event: CommitCompleted = {
    ...base,
    trace_id: "trace-ord-8128",
    commit_hash: hash.slice(0, 7),
    branch: "feature/order-handler",
  };
  const secondEvent: CommitCompleted = {
    ...base,
    trace_id: "trace-ord-8131",
    commit_hash: cancelHash.slice(0, 7),
    branch: "feature/order-cancel",
  };
  const eventFile = path.join(root, "event.json");
  const secondEventFile = path.join(root, "event-2.json");
  const changeEvent: ChangeRequested = {
    event: "ChangeRequested",
    change_id: "4711",
    issue_id: "BVL-232",
    change_type: "pvc-size",
    repo: "OrderService",
    base_branch: "main",
    summary: "increase orders-data PVC to 20Gi",
    edits: [{ path: "deploy/orders/pvc.yaml", set: { "spec.resources.requests.storage": "20Gi" } }],
    context: {
      alert: "PersistentVolumeFillingUp: orders-data is 91% full",
      remediation: "Increase the PVC size from 10Gi to 20Gi",
      impact: "Single namespace (orders); the volume grows online",
      namespace: "orders",
    },
    agent: "agent-sre",
    timestamp,
  };
  const changeEventFile = path.join(root, "event-3.json");
  const tracesFile = path.join(root, "traces.yaml");
  await writeFile(eventFile, `${JSON.stringify(event, null, 2)}\n`);
  await writeFile(secondEventFile, `${JSON.stringify(secondEvent, null, 2)}\n`);
  await writeFile(changeEventFile, `${JSON.stringify(changeEvent, null, 2)}\n`);
  await writeFile(tracesFile, stringify({ traces: SAMPLE_TRACES }));
  return { dir: repoDir, event, eventFile, secondEvent, secondEventFile, changeEvent, changeEventFile, tracesFile };
}
