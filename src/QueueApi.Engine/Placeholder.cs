namespace QueueApi.Engine;
