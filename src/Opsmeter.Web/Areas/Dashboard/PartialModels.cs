using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>What the filters bar shows: the page's filter and the page itself (its links, retention and summary grouping).</summary>
internal sealed record FiltersView(UsageFilter Filter, DashboardPageModel Page);

/// <summary>A delivery log; with <paramref name="ChannelNames"/> it names each delivery's channel.</summary>
internal sealed record DeliveriesView(IReadOnlyList<WebhookDelivery> Deliveries, IReadOnlyDictionary<Guid, string>? ChannelNames = null);
