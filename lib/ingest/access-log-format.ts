/**
 * The API Gateway access-log format of docs/contract.md (access-log record), generated from ACCESS_LOG_FIELDS
 * (src/shared/contract.ts) so the two can never drift apart. Every value is quoted, so every value arrives as a string and a `-` for a
 * missing value stays valid JSON.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { ACCESS_LOG_FIELDS } from '../../src/shared/contract';

/** The raw format string, e.g. `{"requestId":"$context.requestId",...}`. */
export function accessLogFormatString(): string {
  return `{${ACCESS_LOG_FIELDS.map(([key, variable]) => `"${key}":"${variable}"`).join(',')}}`;
}

/** The format as an `AccessLogFormat` for a Stage's `accessLogFormat`. */
export function accessLogFormat(): apigateway.AccessLogFormat {
  return apigateway.AccessLogFormat.custom(accessLogFormatString());
}
