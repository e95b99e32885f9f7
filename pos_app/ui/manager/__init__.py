"""Manager mode: review of flagged sales, shift report and flag chart (Qt).

Wire it from the cashier window with ``ManagerWindow(services, parent=window).show()``;
see ``services.ManagerServices`` for what to inject.
"""
