/**
 * The wire API: the Step Functions operations of the AWS JSON 1.0 protocol (`X-Amz-Target:
 * AWSStepFunctions.<Operation>`), mapped onto the in-process service. Dates go out as epoch seconds.
 */
import { JsonOperation, optionalString, requireString } from '../aws-http';
import { executionView, ExecutionStore, stripData } from './executions';
import { StateMachineRegistry } from './machines';
import { ExecutionView, LocalStepFunctions } from './types';

const seconds = (d?: Date) => (d ? d.getTime() / 1000 : undefined);
const wire = (v: ExecutionView) => ({ ...v, startDate: seconds(v.startDate), stopDate: seconds(v.stopDate) });

/** Page of `all` from the `nextToken` offset, with the next token when more remain. */
function page<T>(i: Record<string, unknown>, all: T[], defaultMax: number): { items: T[]; nextToken?: string } {
  const max = typeof i.maxResults === 'number' && i.maxResults > 0 ? i.maxResults : defaultMax;
  const offset = typeof i.nextToken === 'string' ? Number(i.nextToken) || 0 : 0;
  return { items: all.slice(offset, offset + max), ...(offset + max < all.length ? { nextToken: String(offset + max) } : {}) };
}

type Service = Pick<LocalStepFunctions, 'startExecution' | 'stopExecution' | 'sendTaskSuccess' | 'sendTaskFailure' | 'sendTaskHeartbeat'>;

export function stepFunctionsOperations(machines: StateMachineRegistry, executions: ExecutionStore, service: Service): Record<string, JsonOperation> {
  return {
    CreateStateMachine: (i) => {
      const m = machines.create(
        requireString(i, 'name'),
        requireString(i, 'definition'),
        optionalString(i, 'roleArn'),
        optionalString(i, 'type') ?? 'STANDARD',
      );
      return { stateMachineArn: m.arn, creationDate: seconds(m.creationDate) };
    },
    DescribeStateMachine: (i) => {
      const m = machines.require(requireString(i, 'stateMachineArn'));
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: 'ACTIVE',
        definition: m.definition,
        roleArn: m.roleArn ?? machines.defaultRoleArn(),
        type: m.type,
        creationDate: seconds(m.creationDate),
      };
    },
    ListStateMachines: () => ({
      stateMachines: machines.list().map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) })),
    }),
    DeleteStateMachine: (i) => {
      machines.delete(requireString(i, 'stateMachineArn'));
      return {};
    },
    StartExecution: (i) => {
      const e = service.startExecution(requireString(i, 'stateMachineArn'), optionalString(i, 'input'), optionalString(i, 'name'));
      return { executionArn: e.executionArn, startDate: seconds(e.startDate) };
    },
    DescribeExecution: (i) => wire(executionView(executions.get(requireString(i, 'executionArn')))),
    ListExecutions: (i) => {
      const arn = machines.require(requireString(i, 'stateMachineArn')).arn;
      const status = optionalString(i, 'statusFilter');
      const all = executions
        .all()
        .filter((e) => e.stateMachineArn === arn && (!status || e.status === status))
        .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
      const { items, nextToken } = page(i, all, 100);
      return {
        executions: items.map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: seconds(e.startDate),
          stopDate: seconds(e.stopDate),
        })),
        ...(nextToken ? { nextToken } : {}),
      };
    },
    GetExecutionHistory: (i) => {
      const e = executions.get(requireString(i, 'executionArn'));
      const all = i.reverseOrder === true ? [...e.history].reverse() : [...e.history];
      const { items, nextToken } = page(i, all, 1000);
      return { events: items.map((ev) => (i.includeExecutionData === false ? stripData(ev) : ev)), ...(nextToken ? { nextToken } : {}) };
    },
    StopExecution: (i) => {
      const arn = requireString(i, 'executionArn');
      service.stopExecution(arn, optionalString(i, 'error'), optionalString(i, 'cause'));
      return { stopDate: seconds(executions.get(arn).stopDate ?? new Date()) };
    },
    SendTaskSuccess: (i) => {
      service.sendTaskSuccess(requireString(i, 'taskToken', 'InvalidToken'), requireString(i, 'output', 'InvalidOutput'));
      return {};
    },
    SendTaskFailure: (i) => {
      service.sendTaskFailure(requireString(i, 'taskToken', 'InvalidToken'), optionalString(i, 'error'), optionalString(i, 'cause'));
      return {};
    },
    SendTaskHeartbeat: (i) => {
      service.sendTaskHeartbeat(requireString(i, 'taskToken', 'InvalidToken'));
      return {};
    },
  };
}
