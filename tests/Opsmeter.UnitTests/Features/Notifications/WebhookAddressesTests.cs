using System.Net;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Notifications;

namespace Opsmeter.UnitTests.Features.Notifications;

public sealed class WebhookAddressesTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.255.254", "loopback")]
    [InlineData("10.0.0.5", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.127.255.255", "carrier-grade NAT")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fe80::1%2", "link-local")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("fec0::1", "private")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("::ffff:10.1.2.3", "private")]
    [InlineData("::ffff:0:0", "unspecified")]
    [InlineData("::127.0.0.1", "loopback")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local")]
    [InlineData("2002:7f00:1::1", "loopback")]
    public void Internal_addresses_are_named(string address, string kind) =>
        Assert.Equal(kind, WebhookAddresses.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.0")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("169.253.255.255")]
    [InlineData("11.0.0.0")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("fbff:ffff::1")]
    public void Public_addresses_are_not(string address) =>
        Assert.Null(WebhookAddresses.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", null)]
    [InlineData("LOCALHOST", "127.0.0.1", null)]
    [InlineData("[::1]", "::1", "loopback")]
    [InlineData("other.test", "127.0.0.1", "loopback")]
    [InlineData("other.test", "10.20.3.4", null)]
    [InlineData("other.test", "::ffff:10.20.3.4", null)]
    [InlineData("other.test", "10.21.0.1", "private")]
    [InlineData("other.test", "fd00:1::5", null)]
    [InlineData("other.test", "169.254.169.254", "link-local")]
    [InlineData("other.test", "93.184.216.34", null)]
    public void The_allow_list_names_hosts_or_networks_and_nothing_else(string host, string address, string? refusal)
    {
        var guard = new WebhookAddressGuard(Options.Create(new WebhookOptions
        {
            AllowedHosts = ["127.0.0.1", "localhost", " "], AllowedNetworks = ["10.20.0.0/16", "fd00:1::/64"],
        }));
        Assert.Equal(refusal, guard.Refusal(host, IPAddress.Parse(address)));
    }

    [Fact]
    public void Nothing_internal_is_allowed_by_default()
    {
        var guard = new WebhookAddressGuard(Options.Create(new WebhookOptions()));
        Assert.Equal("loopback", guard.Refusal("localhost", IPAddress.Loopback));
        Assert.Equal("link-local", guard.Refusal("169.254.169.254", IPAddress.Parse("169.254.169.254")));
        Assert.Null(guard.Refusal("hooks.slack.com", IPAddress.Parse("8.8.8.8")));
    }
}
