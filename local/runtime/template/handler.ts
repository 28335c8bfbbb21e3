/**
 * What the template reader knows about one resource type, in one place: its local physical name, the property
 * that names it explicitly, the `Ref` / `Fn::GetAtt` values it answers, and what it adds to the local model.
 * The handlers live in ./resources/, one module per family of services.
 */
import { CfnResource, LocalStackModel } from './model';
import { TemplateResolver } from './resolver';

/** The state of one build, shared by the handlers. */
export interface BuildContext {
  readonly resolver: TemplateResolver;
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** The SQS endpoint queue URLs are built on, without a trailing slash. */
  readonly sqsEndpoint: string;
  readonly cdkOut: string;
  /** The template's resources whose condition holds, in template order. */
  readonly resources: ReadonlyArray<[string, CfnResource]>;
  /** Logical id -> local physical name (what `Ref` returns for most types). */
  readonly physical: Record<string, string>;
  /** The ARN (or stream ARN) of each resource -> its logical id, known once every attribute is set. */
  readonly logicalByArn: Map<string, string>;
  readonly model: LocalStackModel;
  /** `arn:<partition>:<service>:<region>:<account>:<resource>` */
  arn(service: string, resource: string): string;
  /** A naming property of the resource, resolved. */
  explicitName(res: CfnResource, prop: string): string | undefined;
}

export interface ResourceHandler {
  /** The local physical name when the template gives none. @default localName(stackName, logicalId, 128) */
  readonly physicalName?: (ctx: BuildContext, logicalId: string, res: CfnResource) => string;
  /** The property that names the resource explicitly (TableName, QueueName, ...). @default none */
  readonly nameProperty?: string;
  /** Set the resource's `Ref` and `Fn::GetAtt` values (every physical name is known by then). @default the generic ones */
  readonly attributes?: (ctx: BuildContext, logicalId: string, name: string, res: CfnResource) => void;
  /** Add the resource to the local model. @default none: the type is counted in `model.ignored` */
  readonly addToModel?: (ctx: BuildContext, logicalId: string, name: string, props: Record<string, unknown>, res: CfnResource) => void;
}
