// harness.mjs: what the e2e tests share. tests/cli/test_e2e.sh starts
// mcp-demo-server with a fresh key store and hands over, in the environment:
//   MCP_E2E_URL          http://127.0.0.1:PORT/mcp
//   MCP_E2E_KEYS         {"admin": "...", "monitor": ..., "device": ...,
//                         "revoked": ..., "burst": ...}
//   MCP_E2E_REQUEST_LOG  a file that gets one line per HTTP request sent
//                        ("POST request", "POST notification", "GET", ...),
//                        so that the script can match the audit log against it
import { appendFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through tests/cli/test_e2e.sh`);
  return v;
}

export const url = new URL(required('MCP_E2E_URL'));
export const keys = JSON.parse(required('MCP_E2E_KEYS'));
const requestLog = required('MCP_E2E_REQUEST_LOG');

// What a POST body is: a JSON-RPC "request" (it has an id and a method),
// a "notification", or a client's "response".
function kindOf(body) {
  try {
    const m = JSON.parse(body);
    if (m.method === undefined) return 'response';
    return m.id === undefined ? 'notification' : 'request';
  } catch {
    return 'invalid';
  }
}

// fetch that logs each request before sending it.
export async function countingFetch(input, init = {}) {
  const verb = (init.method ?? 'GET').toUpperCase();
  const kind = verb === 'POST' ? ` ${kindOf(init.body)}` : '';
  appendFileSync(requestLog, `${verb}${kind}\n`);
  return fetch(input, init);
}

function headersFor(key) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// An SDK client connected with `key` (none when undefined).
export async function connect(key) {
  const client = new Client({ name: 'mcpauth-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: headersFor(key) },
    fetch: countingFetch,
  });
  await client.connect(transport);
  return { client, transport };
}

// One raw POST of a JSON-RPC message, for what the SDK hides (headers).
export async function post(key, sessionId, message) {
  const headers = {
    ...headersFor(key),
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': '2025-06-18',
  };
  if (sessionId) headers['Mcp-Session-Id'] = sessionId;
  const res = await countingFetch(url, { method: 'POST', headers, body: JSON.stringify(message) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

// The names of the tools a client sees, sorted.
export async function toolNames(client) {
  const { tools } = await client.listTools();
  return tools.map((t) => t.name).sort();
}
