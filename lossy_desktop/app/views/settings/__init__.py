"""The settings window, one module per tab.

`window.SettingsWindow` only assembles the tabs (connections_tab, browser_tab, posting_tab,
recorder_tab, general_tab). Each tab binds its widgets to settings through `binder.SettingField`
(page.SettingsPage.field) and runs anything slow — the keyring, the Browserbase API, a login
check, usage totals — through the window's one `BackgroundTasks` (lossy_desktop.app.concurrency).
"""
