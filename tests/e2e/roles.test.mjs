// roles.test.mjs: each role through the official SDK client: what it sees
// in tools/list and what it may call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, keys, toolNames } from './harness.mjs';

const ALL_TOOLS = ['get_status', 'list_rooms', 'report_sensor', 'set_blinds', 'set_light'];

test('admin sees and calls every tool, and the calls change the home', async () => {
  const { client, transport } = await connect(keys.admin);
  try {
    assert.equal(client.getServerVersion().name, 'mcp-demo-server');
    assert.ok(transport.sessionId, 'initialize answered with an Mcp-Session-Id');
    assert.deepEqual(await toolNames(client), ALL_TOOLS);

    const rooms = await client.callTool({ name: 'list_rooms', arguments: {} });
    assert.deepEqual(rooms.structuredContent.rooms, ['living_room', 'kitchen', 'bedroom', 'hall']);

    const light = await client.callTool({
      name: 'set_light', arguments: { room: 'living_room', on: true, brightness: 35 } });
    assert.equal(light.isError, false);
    assert.deepEqual(light.structuredContent.light, { on: true, brightness: 35 });

    const blinds = await client.callTool({
      name: 'set_blinds', arguments: { room: 'living_room', position: 20 } });
    assert.equal(blinds.structuredContent.blinds.position, 20);

    const sensor = await client.callTool({
      name: 'report_sensor', arguments: { room: 'hall', temperature: 18.5 } });
    assert.equal(sensor.structuredContent.sensor.temperature_c, 18.5);

    const status = await client.callTool({ name: 'get_status', arguments: { room: 'living_room' } });
    assert.deepEqual(status.structuredContent.light, { on: true, brightness: 35 });
    assert.equal(status.structuredContent.blinds.position, 20);
    // The text content carries the same JSON for clients without structured content.
    assert.deepEqual(JSON.parse(status.content[0].text), status.structuredContent);

    const { resources } = await client.listResources();
    assert.ok(resources.some((r) => r.uri === 'home://rooms/living_room'));
    const read = await client.readResource({ uri: 'home://rooms/living_room' });
    assert.equal(JSON.parse(read.contents[0].text).blinds.position, 20);
    await client.ping();
  } finally {
    await transport.terminateSession();   // DELETE /mcp
    await client.close();
  }
});

test('admin: bad arguments are a JSON-RPC -32602 error, an unknown room a tool error', async () => {
  const { client } = await connect(keys.admin);
  try {
    await assert.rejects(
      client.callTool({ name: 'set_blinds', arguments: { room: 'kitchen', position: 101 } }),
      (err) => err.code === -32602 && /position/.test(err.message));
    const res = await client.callTool({ name: 'set_light', arguments: { room: 'garage', on: true } });
    assert.equal(res.isError, true);
    assert.match(res.content[0].text, /no room named 'garage'/);
  } finally {
    await client.close();
  }
});

test('monitor sees only the read tools and may not switch a light', async () => {
  const { client } = await connect(keys.monitor);
  try {
    assert.deepEqual(await toolNames(client), ['get_status', 'list_rooms']);
    const status = await client.callTool({ name: 'get_status', arguments: {} });
    assert.equal(status.structuredContent.rooms.length, 4);
    await assert.rejects(
      client.callTool({ name: 'set_light', arguments: { room: 'kitchen', on: false } }),
      (err) => err.code === 403 && /forbidden/.test(err.message));
    // The refusal changed nothing.
    const kitchen = await client.callTool({ name: 'get_status', arguments: { room: 'kitchen' } });
    assert.equal(kitchen.structuredContent.light.on, true);
  } finally {
    await client.close();
  }
});

test('device sees and calls report_sensor only', async () => {
  const { client } = await connect(keys.device);
  try {
    assert.deepEqual(await toolNames(client), ['report_sensor']);
    const res = await client.callTool({
      name: 'report_sensor', arguments: { room: 'bedroom', temperature: 23.5, humidity: 40 } });
    assert.equal(res.isError, false);
    assert.equal(res.structuredContent.sensor.temperature_c, 23.5);
    await assert.rejects(client.callTool({ name: 'get_status', arguments: {} }),
      (err) => err.code === 403);
    await assert.rejects(client.callTool({ name: 'set_blinds', arguments: { room: 'bedroom', position: 0 } }),
      (err) => err.code === 403);
  } finally {
    await client.close();
  }
  // What the device reported is what an admin now reads.
  const admin = await connect(keys.admin);
  try {
    const read = await admin.client.readResource({ uri: 'home://rooms/bedroom' });
    assert.deepEqual(JSON.parse(read.contents[0].text).sensor.humidity_pct, 40);
  } finally {
    await admin.client.close();
  }
});
