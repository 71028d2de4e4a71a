import { type DynamicModule, Module, type Type } from '@nestjs/common';

/** A module configured where it is imported: `X.register(options)`. */
export interface RegisteredModule<O> extends Type {
  register(options: O): DynamicModule;
}

/**
 * A Nest module named `name` whose `register(options)` is the dynamic module `declare(options)`
 * describes (imports, controllers, providers, exports, global): for modules whose providers are
 * built from the service's config or settings.
 */
export function registeredModule<O>(
  name: string,
  declare: (options: O) => Omit<DynamicModule, 'module'>,
): RegisteredModule<O> {
  @Module({})
  class Registered {
    static register(options: O): DynamicModule {
      return { module: Registered, ...declare(options) };
    }
  }
  Object.defineProperty(Registered, 'name', { value: name });
  return Registered;
}
