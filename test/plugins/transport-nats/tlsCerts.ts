/**
 * Test PKI: a throwaway CA and certificates it signs, made with the openssl CLI (node:crypto can make
 * keys but not X.509 certificates) in a temp folder removed when the test ends. Keys are P-256 so
 * that generating them is instant.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const OPENSSL = process.env.OPENSSL_BIN ?? 'openssl';

/** `{ skip: message }` for node:test when openssl is absent (a failure under CI=true). */
export function skipWithoutOpenssl(): { skip?: string } {
  const ok = spawnSync(OPENSSL, ['version'], { encoding: 'utf8' }).status === 0;
  if (!ok && process.env.CI === 'true') throw new Error('openssl not found (required under CI=true)');
  return ok ? {} : { skip: 'openssl not found: install it (apt-get install -y openssl) or set OPENSSL_BIN' };
}

/** A certificate and its key, as PEM files. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export class TestCa {
  readonly dir: string;
  readonly name: string;
  /** The CA certificate (what a peer trusts). */
  readonly cert: string;
  readonly key: string;

  private constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    this.cert = path.join(dir, `${name}-ca.pem`);
    this.key = path.join(dir, `${name}-ca.key`);
  }

  /** A new self-signed CA in a fresh temp folder, removed after the test. */
  static create(t: { after(fn: () => unknown): void }, name = 'test'): TestCa {
    const dir = mkdtempSync(path.join(tmpdir(), 'ms-nats-pki-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ca = new TestCa(dir, name);
    openssl(dir, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${name} test CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return ca;
  }

  /**
   * A server certificate; by default for 127.0.0.1 (an IP subjectAltName, what a client dialling
   * that IP must check) and localhost.
   */
  server(name = 'server', altNames = 'IP:127.0.0.1,DNS:localhost'): CertFiles {
    return this.#issue(name, [`subjectAltName=${altNames}`, 'extendedKeyUsage=serverAuth']);
  }

  /** A client certificate (mutual TLS). */
  client(name = 'client'): CertFiles {
    return this.#issue(name, [`subjectAltName=DNS:${name}`, 'extendedKeyUsage=clientAuth']);
  }

  #issue(name: string, extensions: readonly string[]): CertFiles {
    const base = path.join(this.dir, `${this.name}-${name}`);
    const files = { cert: `${base}.pem`, key: `${base}.key` };
    const ext = `${base}.ext`;
    writeFileSync(ext, `${extensions.join('\n')}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
    openssl(this.dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', files.key, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
    openssl(this.dir, [
      'x509', '-req', '-in', `${base}.csr`, '-CA', this.cert, '-CAkey', this.key,
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-out', files.cert, '-extfile', ext,
    ]);
    return files;
  }
}

function openssl(cwd: string, args: readonly string[]): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}
