// The catalog a run works from: the defaults plus entities added or overridden by configuration.
import { configErrorFromZod, ConfigError } from '../config/configError.ts';
import { defaultCatalog } from './defaultCatalog.ts';
import { entityDefinitionSchema, type EntityDefinition } from './entityDefinition.ts';

export class EntityCatalog {
  constructor(private readonly entities: ReadonlyMap<string, EntityDefinition>) {}

  static withDefaults(extra: readonly unknown[] = [], source = 'configuration'): EntityCatalog {
    const merged = new Map(defaultCatalog);
    extra.forEach((raw, index) => {
      const parsed = entityDefinitionSchema.safeParse(raw);
      const id = (raw as { id?: unknown } | null)?.id;
      const where = `${source}: entity ${typeof id === 'string' ? `"${id}"` : `#${index + 1}`}`;
      if (!parsed.success) throw configErrorFromZod(where, parsed.error);
      merged.set(parsed.data.id, parsed.data);
    });
    return new EntityCatalog(merged);
  }

  ids(): string[] {
    return [...this.entities.keys()];
  }

  get(id: string): EntityDefinition {
    const entity = this.entities.get(id);
    if (!entity) {
      throw new ConfigError(`unknown entity "${id}"; known entities: ${this.ids().join(', ')}`);
    }
    return entity;
  }
}
