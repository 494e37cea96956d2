"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import dashboard.sqltypes

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Geometry columns are PostGIS columns, so GIS staff can open the tables in QGIS.
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('crowd_counts',
    sa.Column('window_start', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cell_id', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Float(), nullable=False),
    sa.Column('observations', sa.Integer(), nullable=False),
    sa.Column('density_km2', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('window_start', 'cell_id', name=op.f('pk_crowd_counts'))
    )
    op.create_table('crowd_windows',
    sa.Column('window_start', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('computed_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.Column('people', sa.Float(), nullable=False),
    sa.Column('observations', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('window_start', name=op.f('pk_crowd_windows'))
    )
    op.create_table('data_versions',
    sa.Column('dataset', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('dataset', name=op.f('pk_data_versions'))
    )
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_loaded', sa.Integer(), nullable=False),
    sa.Column('rows_quarantined', sa.Integer(), nullable=False),
    sa.Column('rows_duplicate', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('started_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_kind'), ['kind'], unique=False)
        batch_op.create_index('uq_import_batches_loaded_file', ['kind', 'sha256'], unique=True, sqlite_where=sa.text("status = 'loaded'"), postgresql_where=sa.text("status = 'loaded'"))

    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=60), nullable=False),
    sa.Column('scheduler_id', sa.String(length=100), nullable=True),
    sa.Column('slot', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('started_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job_id', 'slot', name='uq_job_runs_job_slot')
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_started_at'), ['started_at'], unique=False)

    op.create_table('risk_models',
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('first_used_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_risk_models'))
    )
    op.create_table('roles',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_roles'))
    )
    op.create_table('scheduler_lock',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('acquired_at', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('expires_at', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lock'))
    )
    op.create_table('stations',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('geom', dashboard.sqltypes.Geometry('POINT', srid=4326), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_stations'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)

    op.create_table('areas',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('level', sa.Enum('district', 'subdistrict', 'committee', 'compound', name='area_level'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('area_km2', sa.Float(), nullable=True),
    sa.Column('geom', dashboard.sqltypes.Geometry('MULTIPOLYGON', srid=4326), nullable=True),
    sa.Column('label_lon', sa.Float(), nullable=True),
    sa.Column('label_lat', sa.Float(), nullable=True),
    sa.Column('is_virtual', sa.Boolean(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_areas_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['parent_code'], ['areas.code'], name=op.f('fk_areas_parent_code_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_areas'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_areas_parent_code'), ['parent_code'], unique=False)

    op.create_table('crowd_batches',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('aggregated_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_crowd_batches_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_crowd_batches'))
    )
    op.create_table('pings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ts', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_pings_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pings'))
    )
    with op.batch_alter_table('pings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pings_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pings_ts'), ['ts'], unique=False)

    op.create_table('provider_counts',
    sa.Column('ts', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cell_id', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_provider_counts_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('ts', 'cell_id', name=op.f('pk_provider_counts'))
    )
    with op.batch_alter_table('provider_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_counts_batch_id'), ['batch_id'], unique=False)

    op.create_table('quarantined_rows',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_quarantined_rows_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_rows'))
    )
    with op.batch_alter_table('quarantined_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_rows_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantined_rows_reason'), ['reason'], unique=False)

    op.create_table('station_bookings',
    sa.Column('station_code', sa.String(length=40), nullable=False),
    sa.Column('as_of', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('hour_start', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_station_bookings_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['station_code'], ['stations.code'], name=op.f('fk_station_bookings_station_code_stations')),
    sa.PrimaryKeyConstraint('station_code', 'as_of', 'hour_start', name=op.f('pk_station_bookings'))
    )
    op.create_table('station_flows',
    sa.Column('station_code', sa.String(length=40), nullable=False),
    sa.Column('hour_start', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('arrivals', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_station_flows_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['station_code'], ['stations.code'], name=op.f('fk_station_flows_station_code_stations')),
    sa.PrimaryKeyConstraint('station_code', 'hour_start', name=op.f('pk_station_flows'))
    )
    op.create_table('station_forecasts',
    sa.Column('station_code', sa.String(length=40), nullable=False),
    sa.Column('issued_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('hour_start', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('lo80', sa.Float(), nullable=False),
    sa.Column('hi80', sa.Float(), nullable=False),
    sa.Column('lo95', sa.Float(), nullable=False),
    sa.Column('hi95', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['station_code'], ['stations.code'], name=op.f('fk_station_forecasts_station_code_stations')),
    sa.PrimaryKeyConstraint('station_code', 'issued_at', 'hour_start', name=op.f('pk_station_forecasts'))
    )
    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['role'], ['roles.name'], name=op.f('fk_user_roles_role_roles')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('buildings',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('compound_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('floors', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('residents', sa.Integer(), nullable=False),
    sa.Column('geom', dashboard.sqltypes.Geometry('POLYGON', srid=4326), nullable=True),
    sa.ForeignKeyConstraint(['compound_code'], ['areas.code'], name=op.f('fk_buildings_compound_code_areas')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_buildings'))
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buildings_compound_code'), ['compound_code'], unique=False)

    op.create_table('construction_sites',
    sa.Column('site_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contractor', sa.String(length=200), nullable=True),
    sa.Column('subdistrict_code', sa.String(length=32), nullable=True),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('new_arrivals_today', sa.Integer(), nullable=False),
    sa.Column('geom', dashboard.sqltypes.Geometry('POINT', srid=4326), nullable=True),
    sa.Column('updated_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_construction_sites_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['subdistrict_code'], ['areas.code'], name=op.f('fk_construction_sites_subdistrict_code_areas')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_construction_sites'))
    )
    with op.batch_alter_table('construction_sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_construction_sites_subdistrict_code'), ['subdistrict_code'], unique=False)

    op.create_table('enterprises',
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('subdistrict_code', sa.String(length=32), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('planned_reopen_date', sa.Date(), nullable=True),
    sa.Column('planned_headcount', sa.Integer(), nullable=True),
    sa.Column('returned_headcount', sa.Integer(), nullable=True),
    sa.Column('capacity_pct', sa.Float(), nullable=True),
    sa.Column('pending_approvals', sa.Integer(), nullable=True),
    sa.Column('checkins_today', sa.Integer(), nullable=True),
    sa.Column('labour_gap', sa.JSON(), nullable=True),
    sa.Column('geom', dashboard.sqltypes.Geometry('POINT', srid=4326), nullable=True),
    sa.Column('updated_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_enterprises_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['subdistrict_code'], ['areas.code'], name=op.f('fk_enterprises_subdistrict_code_areas')),
    sa.PrimaryKeyConstraint('credit_code', name=op.f('pk_enterprises'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_subdistrict_code'), ['subdistrict_code'], unique=False)

    op.create_table('indicator_values',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('compound_code', sa.String(length=32), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_indicator_values_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['compound_code'], ['areas.code'], name=op.f('fk_indicator_values_compound_code_areas')),
    sa.PrimaryKeyConstraint('date', 'compound_code', 'indicator', name=op.f('pk_indicator_values'))
    )
    op.create_table('risk_scores',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('compound_code', sa.String(length=32), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('score_upper', sa.Float(), nullable=False),
    sa.Column('band', sa.String(length=10), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('subscores', sa.JSON(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.Column('carried', sa.JSON(), nullable=False),
    sa.Column('computed_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("band IN ('red', 'yellow', 'blue')", name=op.f('ck_risk_scores_band')),
    sa.ForeignKeyConstraint(['compound_code'], ['areas.code'], name=op.f('fk_risk_scores_compound_code_areas')),
    sa.ForeignKeyConstraint(['model_version'], ['risk_models.version'], name=op.f('fk_risk_scores_model_version_risk_models')),
    sa.PrimaryKeyConstraint('date', 'compound_code', name=op.f('pk_risk_scores'))
    )
    with op.batch_alter_table('risk_scores', schema=None) as batch_op:
        batch_op.create_index('ix_risk_scores_date_rank', ['date', 'rank'], unique=False)

    op.create_table('shops',
    sa.Column('licence_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('subdistrict_code', sa.String(length=32), nullable=True),
    sa.Column('is_open', sa.Boolean(), nullable=True),
    sa.Column('staff_registered', sa.Integer(), nullable=True),
    sa.Column('geom', dashboard.sqltypes.Geometry('POINT', srid=4326), nullable=True),
    sa.Column('updated_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_shops_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['subdistrict_code'], ['areas.code'], name=op.f('fk_shops_subdistrict_code_areas')),
    sa.PrimaryKeyConstraint('licence_id', name=op.f('pk_shops'))
    )
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shops_subdistrict_code'), ['subdistrict_code'], unique=False)

    op.create_table('user_scopes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_user_scopes_area_code_areas')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_scopes_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'area_code', name=op.f('pk_user_scopes'))
    )
    op.create_table('work_orders',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', dashboard.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_at', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', dashboard.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_work_orders_area_code_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders'))
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_orders_area_code'), ['area_code'], unique=False)

    op.create_table('site_workers',
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('site_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('home_province', sa.String(length=40), nullable=False),
    sa.Column('arrived_on', sa.Date(), nullable=False),
    sa.Column('from_key_region', sa.Boolean(), nullable=False),
    sa.Column('certificate_checked', sa.Boolean(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_site_workers_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['site_id'], ['construction_sites.site_id'], name=op.f('fk_site_workers_site_id_construction_sites')),
    sa.PrimaryKeyConstraint('id_number', name=op.f('pk_site_workers'))
    )
    with op.batch_alter_table('site_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_workers_site_id'), ['site_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('site_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_workers_site_id'))

    op.drop_table('site_workers')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_orders_area_code'))

    op.drop_table('work_orders')
    op.drop_table('user_scopes')
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shops_subdistrict_code'))

    op.drop_table('shops')
    with op.batch_alter_table('risk_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_scores_date_rank')

    op.drop_table('risk_scores')
    op.drop_table('indicator_values')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_subdistrict_code'))

    op.drop_table('enterprises')
    with op.batch_alter_table('construction_sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_construction_sites_subdistrict_code'))

    op.drop_table('construction_sites')
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_compound_code'))

    op.drop_table('buildings')
    op.drop_table('user_roles')
    op.drop_table('station_forecasts')
    op.drop_table('station_flows')
    op.drop_table('station_bookings')
    with op.batch_alter_table('quarantined_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantined_rows_reason'))
        batch_op.drop_index(batch_op.f('ix_quarantined_rows_batch_id'))

    op.drop_table('quarantined_rows')
    with op.batch_alter_table('provider_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_counts_batch_id'))

    op.drop_table('provider_counts')
    with op.batch_alter_table('pings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pings_ts'))
        batch_op.drop_index(batch_op.f('ix_pings_batch_id'))

    op.drop_table('pings')
    op.drop_table('crowd_batches')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_code'))
        batch_op.drop_index(batch_op.f('ix_areas_level'))

    op.drop_table('areas')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_at'))

    op.drop_table('access_log')
    op.drop_table('users')
    op.drop_table('stations')
    op.drop_table('scheduler_lock')
    op.drop_table('roles')
    op.drop_table('risk_models')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_started_at'))
        batch_op.drop_index(batch_op.f('ix_job_runs_job_id'))

    op.drop_table('job_runs')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index('uq_import_batches_loaded_file', sqlite_where=sa.text("status = 'loaded'"), postgresql_where=sa.text("status = 'loaded'"))
        batch_op.drop_index(batch_op.f('ix_import_batches_kind'))

    op.drop_table('import_batches')
    op.drop_table('data_versions')
    op.drop_table('crowd_windows')
    op.drop_table('crowd_counts')
