using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Instance;

/// <summary>A value the whole instance shares, by name (the first-run setup token, protected by Data Protection).</summary>
internal sealed class InstanceSetting
{
    public required string Key { get; init; }
    public required string Value { get; set; }
}

internal sealed class InstanceSettingConfiguration : IEntityTypeConfiguration<InstanceSetting>
{
    public void Configure(EntityTypeBuilder<InstanceSetting> builder)
    {
        builder.ToTable("instance_settings");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(64);
    }
}
