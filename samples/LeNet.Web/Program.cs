using LeNet.Web;

WebApp.Create(args).Run();

/// <summary>The entry point of the web sample (public so that tests can start it with <c>WebApplicationFactory</c>).</summary>
public partial class Program
{
}
