using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Opsmeter.Web.Infrastructure.Database;

/// <summary>
/// A PostgreSQL cluster run from the server binaries installed on this machine: the embedded default
/// when no connection string is configured, and the throw-away database of the test suite.
/// As root it runs the cluster as the <c>postgres</c> user, because initdb refuses to run as root.
/// It listens on 127.0.0.1 only (no Unix socket). The embedded default asks for a password (scram-sha-256), generated at
/// the first start and kept in the data folder (<see cref="PasswordFile"/>, mode 0600, owned by the cluster's user);
/// the test suite's throw-away cluster trusts connections from 127.0.0.1, which only this machine can make.
/// </summary>
internal sealed class LocalPostgres : IDisposable
{
    private const string SystemUser = "postgres";
    public const string PasswordFile = "opsmeter-password";

    private const string HbaConf = """
        # Written by Opsmeter. The embedded PostgreSQL listens on 127.0.0.1 only (no Unix socket), and every connection
        # gives the password kept in opsmeter-password, next to this file.
        host all all 127.0.0.1/32 scram-sha-256

        """;

    private readonly string dataDirectory;
    private readonly string binDirectory;
    private readonly bool asRoot;
    private bool startedHere;
    private string? password;

    private LocalPostgres(string dataDirectory, string binDirectory, int port)
    {
        this.dataDirectory = dataDirectory;
        this.binDirectory = binDirectory;
        asRoot = Environment.UserName == "root";
        Port = port;
    }

    public int Port { get; private set; }

    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = SystemUser, Password = password, Database = database, IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/>, creating it first if the folder is empty.
    /// A cluster already running there (a previous Opsmeter killed without a clean stop) is reused.
    /// <paramref name="maxConnections"/> raises PostgreSQL's default of 100 for callers that run many apps against one
    /// cluster (the test suite: each test host keeps its own idle pool).
    /// </summary>
    public static LocalPostgres Start(string dataDirectory, int? port = null, bool throwAway = false, int? maxConnections = null)
    {
        var bin = FindBinDirectory() ?? throw new LocalPostgresUnavailableException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found: install them (Debian: apt-get install postgresql) " +
            "or set ConnectionStrings__Opsmeter to an existing server.");
        var cluster = new LocalPostgres(Path.GetFullPath(dataDirectory), bin, port ?? 0);
        cluster.EnsureStarted(throwAway, maxConnections);
        return cluster;
    }

    private void EnsureStarted(bool throwAway, int? maxConnections)
    {
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            Initialise(throwAway);
        }

        if (!throwAway)
        {
            password = EnsurePassword();
        }

        if (RunningPort() is { } running)
        {
            Port = running;
            return;
        }

        // Two clusters starting at once can be handed the same free port: try a few.
        for (var attempt = 0; ; attempt++)
        {
            var port = Port != 0 && attempt == 0 ? Port : FreePort();
            var options = $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''";
            if (throwAway)
            {
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
            }

            if (maxConnections is { } max)
            {
                options += $" -c max_connections={max}";
            }

            var (exit, output) = Run("pg_ctl", "-D", dataDirectory, "-l", Path.Combine(dataDirectory, "server.log"),
                "-w", "-t", "60", "-o", options, "start");
            if (exit == 0)
            {
                Port = port;
                startedHere = true;
                return;
            }

            if (attempt >= 3)
            {
                throw new LocalPostgresUnavailableException(
                    $"The local PostgreSQL in {dataDirectory} did not start: {LastLine(output)} (see server.log there).");
            }
        }
    }

    private void Initialise(bool throwAway)
    {
        Directory.CreateDirectory(dataDirectory);
        if (asRoot)
        {
            EnsureReachableByPostgresUser(dataDirectory);
            var (chownExit, chownOutput) = RunTool("chown", "-R", $"{SystemUser}:", dataDirectory);
            if (chownExit != 0)
            {
                throw new LocalPostgresUnavailableException($"Could not hand {dataDirectory} to the postgres user: {LastLine(chownOutput)}");
            }
        }

        // Collation C: the same order as C.UTF-8 for UTF-8 text, but PostgreSQL compares it with memcmp instead of
        // strcoll, which every index insert on a text key (externalRequestId, names) pays for.
        var args = new List<string> { "-D", dataDirectory, "-U", SystemUser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--lc-collate=C" };
        if (throwAway)
        {
            args.Add("--no-sync");
        }

        var (exit, output) = Run("initdb", [.. args]);
        if (exit != 0)
        {
            throw new LocalPostgresUnavailableException($"initdb failed in {dataDirectory}: {LastLine(output)}");
        }
    }

    /// <summary>
    /// The cluster's password, from <see cref="PasswordFile"/>. A cluster without one (just made, or made by an Opsmeter
    /// that trusted every local connection) gets one first, set in single-user mode so that no server listens meanwhile,
    /// and its pg_hba.conf rewritten to ask for it.
    /// </summary>
    private string EnsurePassword()
    {
        var file = Path.Combine(dataDirectory, PasswordFile);
        if (File.Exists(file))
        {
            return File.ReadAllText(file).Trim();
        }

        if (RunningPort() is not null)
        {
            Run("pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop"); // left running, with trust, by an earlier Opsmeter
        }

        var generated = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);
        var sql = $"SET password_encryption = 'scram-sha-256';\nALTER ROLE {SystemUser} PASSWORD '{generated}';\n";
        var (exit, output) = RunWithInput(sql, "postgres", "--single", "-D", dataDirectory, "postgres");
        if (exit != 0)
        {
            throw new LocalPostgresUnavailableException($"Could not set the password of the local PostgreSQL in {dataDirectory}: {LastLine(output)}");
        }

        // pg_hba.conf before the password file: should the process die in between, the next start sets a new password.
        File.WriteAllText(Path.Combine(dataDirectory, "pg_hba.conf"), HbaConf);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // from the start, never readable by others
        }

        using (var stream = new FileStream(file, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(generated);
        }

        if (asRoot)
        {
            RunTool("chown", $"{SystemUser}:", file);
        }

        return generated;
    }

    /// <summary>The port of a postmaster already serving this data folder, if there is one.</summary>
    private int? RunningPort()
    {
        var (exit, _) = Run("pg_ctl", "-D", dataDirectory, "status");
        if (exit != 0)
        {
            return null;
        }

        // postmaster.pid line 4 holds the port (PostgreSQL documents the file's layout in pidfile.h).
        var lines = File.ReadAllLines(Path.Combine(dataDirectory, "postmaster.pid"));
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }

    /// <summary>Creates <paramref name="database"/> if the cluster lacks it.</summary>
    public void EnsureDatabase(string database)
    {
        using var connection = new NpgsqlConnection(ConnectionString());
        connection.Open();
        using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (exists.ExecuteScalar() is null)
        {
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            create.ExecuteNonQuery();
        }
    }

    /// <summary>Stops the cluster if this process started it; a cluster that was already running is left alone.</summary>
    public void Stop()
    {
        if (startedHere)
        {
            Run("pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop");
            startedHere = false;
        }
    }

    public bool IsRunning => Run("pg_ctl", "-D", dataDirectory, "status").ExitCode == 0;

    public void Dispose() => Stop();

    private (int ExitCode, string Output) Run(string tool, params string[] args) => RunWithInput(null, tool, args);

    /// <summary>Runs a PostgreSQL tool as the cluster's user, with <paramref name="input"/> (not an argument: others can read those) as its stdin.</summary>
    private (int ExitCode, string Output) RunWithInput(string? input, string tool, params string[] args)
    {
        var path = Path.Combine(binDirectory, tool);
        return asRoot ? RunTool(input, "runuser", ["-u", SystemUser, "--", path, .. args]) : RunTool(input, path, args);
    }

    private static (int ExitCode, string Output) RunTool(string file, params string[] args) => RunTool(null, file, args);

    private static (int ExitCode, string Output) RunTool(string? input, string file, string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user cannot enter most callers' working folders; "/" is always readable.
            WorkingDirectory = "/",
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }

            // pg_ctl start leaves the server holding inherited pipes; read stderr only to the end
            // of pg_ctl's own life by waiting on the process, not on EOF of the streams.
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            process.WaitForExit();
            var output = (stdout.Wait(TimeSpan.FromSeconds(2)) ? stdout.Result : "") +
                         (stderr.Wait(TimeSpan.FromSeconds(2)) ? stderr.Result : "");
            return (process.ExitCode, output);
        }
        catch (Win32Exception e)
        {
            return (-1, $"{file}: {e.Message}");
        }
    }

    private static string? FindBinDirectory()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
        if (onPath is not null)
        {
            // Debian links /usr/local/bin/initdb into /usr/lib/postgresql/N/bin; pg_ctl needs the real folder.
            var resolved = new FileInfo(Path.Combine(onPath, "initdb")).ResolveLinkTarget(returnFinalTarget: true);
            return resolved is null ? onPath : Path.GetDirectoryName(resolved.FullName);
        }

        const string debianRoot = "/usr/lib/postgresql";
        return Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .Select(dir => Path.Combine(dir, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
    }

    private static void EnsureReachableByPostgresUser(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        for (var dir = Path.GetDirectoryName(folder); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            var mode = File.GetUnixFileMode(dir);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                throw new LocalPostgresUnavailableException(
                    $"The postgres user cannot reach {folder} because {dir} is closed to other users: " +
                    "set Opsmeter__EmbeddedDatabase__DataDirectory to a folder outside it (for example /var/lib/opsmeter).");
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
}

/// <summary>The local PostgreSQL cannot be had; the message says, in one line, what to install or set.</summary>
internal sealed class LocalPostgresUnavailableException(string message) : Exception(message);
