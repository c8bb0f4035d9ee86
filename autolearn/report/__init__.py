"""See a search: plots of the run and the model, explanations, a one-file HTML report and a live dashboard.

matplotlib is needed for the plots and the report (``pip install autolearn[report]``); the dashboard
itself needs only the standard library.
"""
