namespace QueueApi.Engine.Tests;
public class T { [Fact] public void A() => Assert.True(true); }
