"""Page layouts: functions returning components. They import only :mod:`layouts.ids` (and Dash);
text arrives through the ``tr`` function the caller passes in, so no UI string lives here."""
