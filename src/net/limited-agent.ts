import http from "node:http";
import https from "node:https";
import { DEFAULT_MAX_IN_FLIGHT_PER_HOST } from "./limit.js";

const agents = new Map<string, http.Agent>();

/**
 * The process-wide keep-alive agent of one host (scheme, host and port of `url`) for node:http clients
 * (azure-devops-node-api's typed-rest-client): `maxSockets` bounds the requests in flight to that host, shared
 * by every forge instance and agent in the process. A request waiting for a socket has not started its socket
 * timeout yet (node starts it when the socket is assigned), so queueing never times out. The first caller's
 * `max` sets the limit.
 */
export function hostAgent(url: string | URL, max = DEFAULT_MAX_IN_FLIGHT_PER_HOST): http.Agent {
  const { origin, protocol } = new URL(url);
  let agent = agents.get(origin);
  if (agent === undefined) {
    const options = { keepAlive: true, maxSockets: max };
    agent = protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
    agents.set(origin, agent);
  }
  return agent;
}
