import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * `client`, except that its first TransactWriteItems runs `race` before it is sent: the second actor of a race test
 * commits after the code under test has read and before its transaction reaches DynamoDB. `raced()` says whether it did.
 */
export function raceBeforeFirstTransaction(client: DynamoDBDocumentClient, race: () => Promise<void>): { client: DynamoDBDocumentClient; raced: () => boolean } {
  let raced = false;
  const racing = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'TransactWriteCommand' && !raced) {
          raced = true;
          await race();
        }
        return target.send(command as never);
      };
    },
  });
  return { client: racing, raced: () => raced };
}
