/**
 * Authentication against a real nats-server: NKeys (inline seed and seed file), user/password and
 * tokens, right and wrong. A wrong credential fails start with NATS_CONNECT_FAILED naming the
 * server, and no secret ever shows in an error (message, cause, context) or a log line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { credsAuthenticator, nkeyAuthenticator, nkeys } from '@nats-io/transport-node';
import type { EventBus, StoredEvent } from '../../../plugins/events/types.js';
import { skipWithoutNats, startNats, type NatsServer } from './natsServer.js';
import { captureLogs, connectError, errorText, natsKernel, until } from './helpers.js';
import { TestOperator } from './natsJwt.js';

const opts = skipWithoutNats();

/** A temp folder standing for the config file's folder, removed after the test. */
function configDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ms-nats-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A user NKey pair: the seed (secret, `SU…`) and the public key the server config names (`U…`). */
function userKey(): { seed: string; pub: string } {
  const kp = nkeys.createUser();
  return { seed: new TextDecoder().decode(kp.getSeed()), pub: kp.getPublicKey() };
}

/** Asserts a failed start with NATS_CONNECT_FAILED naming the server and `why`, with none of `secrets` anywhere in it or in `lines`. */
async function failsWithout(
  start: Promise<unknown>,
  server: NatsServer,
  why: RegExp,
  secrets: readonly string[],
  lines: readonly string[],
): Promise<void> {
  await assert.rejects(start, (error: Error) => {
    const err = connectError(error);
    assert.ok(err, `expected NATS_CONNECT_FAILED, got: ${errorText(error)}`);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    assert.match(err.message, why);
    noSecrets(errorText(error), secrets, 'the error');
    return true;
  });
  assert.ok(lines.length > 0, 'the failed start was logged');
  for (const line of lines) noSecrets(line, secrets, 'a log line');
}

function noSecrets(text: string, secrets: readonly string[], where: string): void {
  for (const s of secrets) assert.ok(!text.includes(s), `${where} shows a secret: ${text}`);
}

test('NKey: a node with auth.nkeySeed connects and bridges events; another key is refused', opts, async (t) => {
  const alice = userKey();
  const bob = userKey();
  const server = await startNats(t, {
    config: `authorization { users = [ { nkey: "${alice.pub}" }, { nkey: "${bob.pub}" } ] }`,
    connect: { authenticator: nkeyAuthenticator(new TextEncoder().encode(alice.seed)) },
  });
  const { logger, lines } = captureLogs();
  const a = await natsKernel(t, server.url, { system: 'nk', auth: { nkeySeed: alice.seed }, bridge: ['note.>'] }, ['events'], { logger });
  const b = await natsKernel(t, server.url, { system: 'nk', auth: { nkeySeed: bob.seed }, bridge: ['note.>'] }, ['events']);
  const seen: StoredEvent[] = [];
  a.kernel.resolve<EventBus>('events').subscribe('note.>', (e) => void seen.push(e));
  await b.kernel.resolve<EventBus>('events').publish({ type: 'note.hi', source: 'bob', data: 1 });
  await until(() => seen.length === 1, 'the event over the NKey-authenticated connections');
  for (const line of lines) noSecrets(line, [alice.seed], 'a log line');

  const mallory = userKey();
  const failed = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { nkeySeed: mallory.seed } }, [], { logger: failed.logger }),
    server,
    /Authorization Violation/i,
    [mallory.seed],
    failed.lines,
  );
});

test('NKey: auth.nkeySeedFile resolves against the config folder; a missing or malformed file fails naming the option, never the seed', opts, async (t) => {
  const alice = userKey();
  const server = await startNats(t, {
    config: `authorization { users = [ { nkey: "${alice.pub}" } ] }`,
    connect: { authenticator: nkeyAuthenticator(new TextEncoder().encode(alice.seed)) },
  });
  const dir = configDir(t);
  writeFileSync(path.join(dir, 'alice.nk'), `${alice.seed}\n`, { mode: 0o600 });
  const { nats } = await natsKernel(t, server.url, { auth: { nkeySeedFile: 'alice.nk' } }, [], { configDir: dir });
  assert.equal(nats.stats().state, 'connected');

  const missing = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { nkeySeedFile: 'nobody.nk' } }, [], { configDir: dir, logger: missing.logger }),
    server,
    new RegExp(`auth\\.nkeySeedFile: cannot read ${dir}/nobody\\.nk`),
    [],
    missing.lines,
  );

  // A seed with one character changed: not a valid seed (checksum), reported without the seed.
  const broken = `${alice.seed.slice(0, 10)}${alice.seed[10] === 'A' ? 'B' : 'A'}${alice.seed.slice(11)}`;
  writeFileSync(path.join(dir, 'broken.nk'), broken);
  const bad = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { nkeySeedFile: 'broken.nk' } }, [], { configDir: dir, logger: bad.logger }),
    server,
    /auth\.nkeySeedFile \(.*broken\.nk\): not a valid user NKey seed/,
    [broken, broken.slice(2, 30)],
    bad.lines,
  );

  // An account seed (SA…) in the file is not a user's.
  const account = new TextDecoder().decode(nkeys.createAccount().getSeed());
  writeFileSync(path.join(dir, 'account.nk'), account);
  const acc = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { nkeySeedFile: 'account.nk' } }, [], { configDir: dir, logger: acc.logger }),
    server,
    /not a valid user NKey seed \(not a user seed/,
    [account],
    acc.lines,
  );
});

test('NKey: an inline seed that is not a user seed is a config error that does not echo it', opts, async (t) => {
  const server = await startNats(t);
  const account = new TextDecoder().decode(nkeys.createAccount().getSeed());
  const { logger, lines } = captureLogs();
  await assert.rejects(natsKernel(t, server.url, { auth: { nkeySeed: account } }, [], { logger }), (error: Error) => {
    assert.match(errorText(error), /auth\.nkeySeed: .*must start with "SU"/);
    noSecrets(errorText(error), [account], 'the error');
    return true;
  });
  for (const line of lines) noSecrets(line, [account], 'a log line');
});

test('user/pass: the right password connects, a wrong one fails start without showing either', opts, async (t) => {
  const password = 'pa55-Word-9f3c1e';
  const server = await startNats(t, {
    config: `authorization { users = [ { user: "alice", password: "${password}" } ] }`,
    connect: { user: 'alice', pass: password },
  });
  const ok = captureLogs();
  const { nats } = await natsKernel(t, server.url, { auth: { user: 'alice', pass: password } }, ['health'], { logger: ok.logger });
  assert.equal(nats.stats().state, 'connected');
  for (const line of ok.lines) noSecrets(line, [password], 'a log line');

  const wrong = 'not-the-password-7e1';
  const failed = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { user: 'alice', pass: wrong } }, [], { logger: failed.logger }),
    server,
    /Authorization Violation/i,
    [wrong, password],
    failed.lines,
  );
  // The right password for another user name is refused too.
  await assert.rejects(natsKernel(t, server.url, { auth: { user: 'bob', pass: password }, connectTimeoutMs: 3_000 }), (e: Error) => connectError(e) !== undefined);
});

test('token: a wrong token fails start without showing it', opts, async (t) => {
  const token = 'tok-5ecret-a81b';
  const server = await startNats(t, { config: `authorization { token: "${token}" }` });
  const wrong = 'tok-wrong-3c9d';
  const failed = captureLogs();
  await failsWithout(natsKernel(t, server.url, { auth: { token: wrong } }, [], { logger: failed.logger }), server, /Authorization Violation/i, [wrong, token], failed.lines);
});

test('credentials (JWT): a node with auth.credentialsFile of a user of a trusted account connects and uses JetStream; a user of an unknown account is refused', opts, async (t) => {
  const operator = new TestOperator();
  const user = operator.userCreds('node-a');
  const server = await startNats(t, { config: operator.serverConfig, connect: { authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)) } });
  const dir = configDir(t);
  writeFileSync(path.join(dir, 'node-a.creds'), user.creds, { mode: 0o600 });
  const ok = captureLogs();
  const { nats } = await natsKernel(t, server.url, { auth: { credentialsFile: 'node-a.creds' } }, ['events'], { configDir: dir, logger: ok.logger });
  assert.equal(nats.stats().state, 'connected');
  // The account's JetStream limits let the node keep an event log.
  const store = nats.createEventStore({ stream: 'JWT_EVENTS', storage: 'memory' });
  await store.open(() => undefined);
  await store.close();
  for (const line of ok.lines) noSecrets(line, [user.seed], 'a log line');

  const stranger = operator.userCreds('mallory', { signedBy: 'stranger' });
  writeFileSync(path.join(dir, 'mallory.creds'), stranger.creds, { mode: 0o600 });
  const failed = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { credentialsFile: 'mallory.creds' } }, [], { configDir: dir, logger: failed.logger }),
    server,
    /Authorization Violation/i,
    [stranger.seed],
    failed.lines,
  );

  writeFileSync(path.join(dir, 'garbage.creds'), `not a creds file ${stranger.seed}`);
  const garbage = captureLogs();
  await failsWithout(
    natsKernel(t, server.url, { auth: { credentialsFile: 'garbage.creds' } }, [], { configDir: dir, logger: garbage.logger }),
    server,
    /auth\.credentialsFile \(.*garbage\.creds\): not a valid credentials file/,
    [stranger.seed],
    garbage.lines,
  );
});

test('credentials in a server URL are refused at config time, without repeating them', opts, async (t) => {
  const password = 'url-pa55-77ab';
  const { logger, lines } = captureLogs();
  for (const servers of [`nats://alice:${password}@127.0.0.1:4222`, ['nats://127.0.0.1:4222', `${password}@127.0.0.1:4223`]]) {
    await assert.rejects(natsKernel(t, 'unused', { servers }, [], { logger }), (error: Error) => {
      assert.match(errorText(error), /servers.*must not carry credentials/);
      noSecrets(errorText(error), [password], 'the error');
      return true;
    });
  }
  for (const line of lines) noSecrets(line, [password], 'a log line');
});
