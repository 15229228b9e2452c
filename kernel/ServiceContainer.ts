import { asValue, createContainer, type AwilixContainer } from 'awilix';
import { KernelError, toError, type Disposer } from '../sdk/index.js';
import type { Logger } from 'pino';
import { KernelErrorCodes } from './errors.js';

interface Registration {
  readonly name: string;
  readonly owner: string;
  readonly dispose: (() => void | Promise<void>) | undefined;
  disposed: boolean;
}

/**
 * The kernel's awilix container plus what awilix leaves to us: knowing who provided what, refusing
 * a second provider for a name, and disposing in reverse registration order (awilix resolution is
 * sync and its own disposal unordered).
 */
export class ServiceContainer {
  /** The underlying awilix container, for users who want its factories and scopes. */
  readonly awilix: AwilixContainer;
  readonly #live = new Map<string, Registration>();
  readonly #order: Registration[] = [];

  constructor() {
    this.awilix = createContainer({ injectionMode: 'PROXY', strict: true });
  }

  provide<T>(owner: string, name: string, value: T, dispose?: (value: T) => void | Promise<void>): Disposer {
    const existing = this.#live.get(name);
    if (existing !== undefined) {
      throw new KernelError(KernelErrorCodes.KERNEL_SERVICE_CONFLICT, `service '${name}' is already provided by '${existing.owner}'; '${owner}' cannot provide it too`, {
        context: { service: name, owner: existing.owner, contender: owner },
      });
    }
    const registration: Registration = { name, owner, dispose: dispose && (() => dispose(value)), disposed: false };
    this.awilix.register(name, asValue(value));
    this.#live.set(name, registration);
    this.#order.push(registration);
    return () => this.#disposeOne(registration);
  }

  has(name: string): boolean {
    return this.#live.has(name);
  }

  resolve<T>(name: string, requester: string): T {
    if (!this.#live.has(name)) {
      throw new KernelError(
        KernelErrorCodes.KERNEL_SERVICE_NOT_FOUND,
        `'${requester}' asked for service '${name}', which no loaded plugin provides (provided: ${[...this.#live.keys()].join(', ') || 'none'})`,
        { context: { service: name, requester } },
      );
    }
    return this.awilix.resolve<T>(name);
  }

  tryResolve<T>(name: string): T | undefined {
    return this.#live.has(name) ? this.awilix.resolve<T>(name) : undefined;
  }

  /** Names in registration order, with their owners. */
  list(): Array<{ name: string; owner: string }> {
    return [...this.#live.values()].map(({ name, owner }) => ({ name, owner }));
  }

  /** Disposes what `owner` provided, newest first. */
  async disposeOwner(owner: string, logger: Logger): Promise<void> {
    for (const registration of [...this.#order].reverse()) {
      if (registration.owner === owner) await this.#disposeLogged(registration, logger);
    }
  }

  /** Disposes everything, newest first; errors are logged and do not stop the rest. */
  async disposeAll(logger: Logger): Promise<Error[]> {
    const errors: Error[] = [];
    for (const registration of [...this.#order].reverse()) {
      const error = await this.#disposeLogged(registration, logger);
      if (error) errors.push(error);
    }
    await this.awilix.dispose();
    return errors;
  }

  async #disposeLogged(registration: Registration, logger: Logger): Promise<Error | undefined> {
    try {
      await this.#disposeOne(registration);
      return undefined;
    } catch (error) {
      const err = toError(error);
      logger.error({ err, service: registration.name, plugin: registration.owner }, 'service disposal failed');
      return err;
    }
  }

  async #disposeOne(registration: Registration): Promise<void> {
    if (registration.disposed) return;
    registration.disposed = true;
    if (this.#live.get(registration.name) === registration) this.#live.delete(registration.name);
    await registration.dispose?.();
  }
}
