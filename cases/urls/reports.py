"""Reports for managers: charts, the tables behind them, CSV downloads."""

urlpatterns = []
