"""``python -m divergence_client``: the ``divergence`` command."""

from divergence_client.cli import main_exit

if __name__ == "__main__":
    main_exit()
