/**
 * Test operator setup for nats-server's JWT ("decentralized") auth, with no tool beyond the NKeys
 * the client already ships: an operator signs an account, the account signs a user, and the user's
 * JWT plus NKey seed make a `.creds` file as `nsc` writes it. Only the claims the server checks are
 * filled in (nats-io/jwt v2: header `ed25519-nkey`, signature over `header.payload` by the issuer).
 */
import { createHash } from 'node:crypto';
import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createUser>;

const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

/** A JWT with `claims.nats` of `type`, issued (signed) by `issuer` for `subject`. */
function sign(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  // The id is the base32 of the claims' SHA-512/256, as the Go library makes it (the server only reads it).
  claims.jti = base32(createHash('sha512-256').update(JSON.stringify(claims)).digest());
  const payload = b64url(JSON.stringify(claims));
  const sig = issuer.sign(new TextEncoder().encode(`${header}.${payload}`));
  return `${header}.${payload}.${b64url(sig)}`;
}

function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1 };

/** An operator with one account (JetStream enabled) and a way to issue its users. */
export class TestOperator {
  readonly #operator = nkeys.createOperator();
  readonly #account = nkeys.createAccount();
  /** The system account: JetStream needs one in operator mode. */
  readonly #system = nkeys.createAccount();
  readonly operatorJwt: string;
  readonly accountJwt: string;
  readonly systemJwt: string;

  constructor() {
    this.operatorJwt = sign(this.#operator, this.#operator.getPublicKey(), 'test-operator', { type: 'operator', system_account: this.#system.getPublicKey() });
    this.systemJwt = sign(this.#operator, this.#system.getPublicKey(), 'SYS', { type: 'account', limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 } });
    this.accountJwt = sign(this.#operator, this.#account.getPublicKey(), 'test-account', {
      type: 'account',
      limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
      default_permissions: { pub: {}, sub: {} },
    });
  }

  /** nats-server config: trust this operator, the account preloaded in a memory resolver. */
  get serverConfig(): string {
    return (
      `operator: ${this.operatorJwt}\nsystem_account: ${this.#system.getPublicKey()}\nresolver: MEMORY\n` +
      `resolver_preload: {\n  ${this.#account.getPublicKey()}: ${this.accountJwt}\n  ${this.#system.getPublicKey()}: ${this.systemJwt}\n}\n`
    );
  }

  /**
   * A `.creds` file's text for a new user of the account: its JWT and its NKey seed. With
   * `signedBy: 'stranger'` the JWT is signed by an account the operator never issued.
   */
  userCreds(name = 'user', options: { signedBy?: 'account' | 'stranger' } = {}): { creds: string; seed: string } {
    const user = nkeys.createUser();
    const issuer = options.signedBy === 'stranger' ? nkeys.createAccount() : this.#account;
    const jwt = sign(issuer, user.getPublicKey(), name, { type: 'user', pub: {}, sub: {}, ...UNLIMITED });
    const seed = new TextDecoder().decode(user.getSeed());
    const creds =
      `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
      '************************* IMPORTANT *************************\n' +
      'NKEY Seed printed below can be used to sign and prove identity.\nNKEYs are sensitive and should be treated as secrets.\n\n' +
      `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n\n*************************************************************\n`;
    return { creds, seed };
  }
}
