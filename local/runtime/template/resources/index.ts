/**
 * Every resource type the template reader knows, one entry each. To support a new type, add its entry to the
 * family module here (or a new family module, merged below); nothing else in the reader changes.
 */
import { ResourceHandler } from '../handler';
import { API_GATEWAY_RESOURCES } from './apigateway';
import { COMPUTE_RESOURCES } from './compute';
import { DATA_RESOURCES } from './data';
import { EVENT_RESOURCES } from './events';
import { PLATFORM_RESOURCES } from './platform';

export const RESOURCE_HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  ...DATA_RESOURCES,
  ...EVENT_RESOURCES,
  ...COMPUTE_RESOURCES,
  ...API_GATEWAY_RESOURCES,
  ...PLATFORM_RESOURCES,
};
