using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Security;

/// <summary>The Data Protection key ring lives in the database; with a certificate configured a copy of the database does not hold it in clear.</summary>
public sealed class KeyRingTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("opsmeter-cert-").FullName;

    [Fact]
    public async Task With_a_certificate_the_keys_are_stored_encrypted_and_sign_in_still_works()
    {
        var certificate = WriteCertificate("current.pfx");
        var settings = new Dictionary<string, string>
        {
            ["Opsmeter:DataProtection:Certificate"] = certificate,
            ["Opsmeter:DataProtection:CertificatePassword"] = "test password",
            ["Opsmeter:Bootstrap:AdminEmail"] = "ring@example.test",
            ["Opsmeter:Bootstrap:AdminPassword"] = "a long enough passphrase",
        };
        await using var app = new OpsmeterApp(settings);
        await app.InitializeAsync();
        using var person = DashboardUser.For(app);
        var signedIn = await person.PostFormAsync("/account/signin", new() { ["Form.Email"] = "ring@example.test", ["Form.Password"] = "a long enough passphrase" });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        var ring = await app.WithDbAsync(db => db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync());
        Assert.NotEmpty(ring);
        Assert.All(ring, xml =>
        {
            Assert.Contains("encryptedSecret", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("unencrypted form", xml, StringComparison.Ordinal);
        });
        Assert.Equal(HttpStatusCode.OK, (await person.GetAsync("/Dashboard")).Response.StatusCode);
    }

    private string WriteCertificate(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=opsmeter-key-ring", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "test password"));
        return path;
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
